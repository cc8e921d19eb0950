// Encrypted attachments (client-server API, "Sending encrypted attachments"):
// AES-256-CTR with a fresh key per file, a 128-bit IV whose low 64 bits (the
// counter) start at zero, and a SHA-256 of the ciphertext that the receiver
// checks before decrypting. Only WebCrypto is used.

/** EncryptedFile is the spec's EncryptedFile object (m.file / m.image "file"). */
export interface EncryptedFile {
  url: string;
  key: { kty: "oct"; key_ops: string[]; alg: "A256CTR"; k: string; ext: true };
  iv: string;
  hashes: { sha256: string };
  v: "v2";
}

const b64 = (bytes: Uint8Array): string => {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
};
/** unpadded: the spec's "Unpadded Base64" (appendix). */
export const unpadded = (bytes: Uint8Array): string => b64(bytes).replace(/=+$/, "");
const urlSafe = (bytes: Uint8Array): string => unpadded(bytes).replace(/\+/g, "-").replace(/\//g, "_");

/** fromBase64 accepts padded or unpadded, standard or URL-safe base64. */
export function fromBase64(s: string): Uint8Array<ArrayBuffer> {
  const std = s.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(std + "=".repeat((4 - (std.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** encryptAttachment returns the ciphertext and the EncryptedFile minus url. */
export async function encryptAttachment(plain: ArrayBuffer): Promise<{ data: ArrayBuffer; file: Omit<EncryptedFile, "url"> }> {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const iv = new Uint8Array(16);
  // Random high half, zero counter: room for 2^64 blocks without wrapping.
  crypto.getRandomValues(iv.subarray(0, 8));
  const key = await crypto.subtle.importKey("raw", raw, "AES-CTR", false, ["encrypt"]);
  const data = await crypto.subtle.encrypt({ name: "AES-CTR", counter: iv, length: 64 }, key, plain);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return {
    data,
    file: {
      key: { kty: "oct", key_ops: ["encrypt", "decrypt"], alg: "A256CTR", k: urlSafe(raw), ext: true },
      iv: unpadded(iv),
      hashes: { sha256: unpadded(digest) },
      v: "v2",
    },
  };
}

/** decryptAttachment checks the hash, then decrypts; it throws on any mismatch. */
export async function decryptAttachment(cipher: ArrayBuffer, file: EncryptedFile): Promise<ArrayBuffer> {
  if (file.v !== "v2" && file.v !== undefined) throw new Error(`unsupported attachment version ${String(file.v)}`);
  if (!file.key?.k || file.key.alg !== "A256CTR" || !file.key.key_ops?.includes("decrypt")) throw new Error("unsupported attachment key");
  const want = file.hashes?.sha256;
  if (!want) throw new Error("attachment has no SHA-256 hash");
  const got = unpadded(new Uint8Array(await crypto.subtle.digest("SHA-256", cipher)));
  if (got !== want.replace(/=+$/, "")) throw new Error("attachment hash mismatch");
  const iv = fromBase64(file.iv);
  if (iv.length !== 16) throw new Error("attachment IV must be 16 bytes");
  const raw = fromBase64(file.key.k);
  if (raw.length !== 32) throw new Error("attachment key must be 256 bits");
  const key = await crypto.subtle.importKey("raw", raw, "AES-CTR", false, ["decrypt"]);
  return crypto.subtle.decrypt({ name: "AES-CTR", counter: iv, length: 64 }, key, cipher);
}
