import { describe, expect, it } from "vitest";
import { decryptAttachment, encryptAttachment, EncryptedFile, fromBase64, unpadded } from "./attachcrypto";

const text = (b: ArrayBuffer) => new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s).buffer as ArrayBuffer;

describe("attachment encryption", () => {
  it("round-trips and produces spec-shaped metadata", async () => {
    const { data, file } = await encryptAttachment(bytes("hello, attachment"));
    expect(text(data)).not.toBe("hello, attachment");
    expect(file.v).toBe("v2");
    expect(file.key.alg).toBe("A256CTR");
    expect(file.key.key_ops).toEqual(["encrypt", "decrypt"]);
    expect(file.key.k).not.toMatch(/[+/=]/);
    expect(fromBase64(file.key.k)).toHaveLength(32);
    const iv = fromBase64(file.iv);
    expect(iv).toHaveLength(16);
    expect([...iv.subarray(8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(file.iv).not.toMatch(/=/);
    const plain = await decryptAttachment(data, { ...file, url: "mxc://x/y" });
    expect(text(plain)).toBe("hello, attachment");
  });

  it("decrypts a known vector from another implementation's layout", async () => {
    // Key and IV chosen by hand; ciphertext made with the same AES-CTR
    // parameters, so this pins the counter length and key encoding.
    const raw = new Uint8Array(32).fill(7);
    const iv = new Uint8Array(16);
    iv.set([1, 2, 3, 4, 5, 6, 7, 8]);
    const key = await crypto.subtle.importKey("raw", raw, "AES-CTR", false, ["encrypt"]);
    const data = await crypto.subtle.encrypt({ name: "AES-CTR", counter: iv, length: 64 }, key, bytes("vector"));
    const sha = unpadded(new Uint8Array(await crypto.subtle.digest("SHA-256", data)));
    const file: EncryptedFile = {
      url: "mxc://x/y",
      key: { kty: "oct", key_ops: ["encrypt", "decrypt"], alg: "A256CTR", k: "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc", ext: true },
      iv: "AQIDBAUGBwgAAAAAAAAAAA",
      hashes: { sha256: sha },
      v: "v2",
    };
    expect(text(await decryptAttachment(data, file))).toBe("vector");
  });

  it.each([
    ["tampered ciphertext", (d: Uint8Array, f: EncryptedFile) => ((d[0] ^= 1), f), /hash mismatch/],
    ["no hash", (_d: Uint8Array, f: EncryptedFile) => ({ ...f, hashes: {} as EncryptedFile["hashes"] }), /no SHA-256/],
    ["short IV", (_d: Uint8Array, f: EncryptedFile) => ({ ...f, iv: "AAAA" }), /IV/],
    ["wrong alg", (_d: Uint8Array, f: EncryptedFile) => ({ ...f, key: { ...f.key, alg: "A128CTR" as "A256CTR" } }), /key/],
    ["old version", (_d: Uint8Array, f: EncryptedFile) => ({ ...f, v: "v1" as "v2" }), /version/],
  ])("rejects %s", async (_name, mutate, want) => {
    const { data, file } = await encryptAttachment(bytes("secret"));
    const d = new Uint8Array(data);
    const f = mutate(d, { ...file, url: "mxc://x/y" });
    await expect(decryptAttachment(d.buffer as ArrayBuffer, f)).rejects.toThrow(want);
  });
});
