// Uploading attachments (encrypted in encrypted rooms) and fetching media
// through the authenticated endpoints (client-server API, "Content
// repository": /_matrix/client/v1/media/*). <img src> cannot send the
// Authorization header, so media is fetched and shown via object URLs.
import type { MatrixClient } from "matrix-js-sdk";
import { decryptAttachment, encryptAttachment, EncryptedFile } from "./attachcrypto";

export type AttachmentType = "m.image" | "m.video" | "m.audio" | "m.file";

/** msgtypeFor picks the message type from a MIME type. */
export function msgtypeFor(mime: string): AttachmentType {
  if (/^image\/(png|jpeg|gif|webp)$/.test(mime)) return "m.image";
  if (mime.startsWith("video/")) return "m.video";
  if (mime.startsWith("audio/")) return "m.audio";
  return "m.file";
}

/**
 * displayType is the type an object URL gets. Only raster image types are
 * displayed; anything else becomes an opaque download, so that a blob: URL
 * opened in a tab can never run as a page of this origin.
 */
export function displayType(mime: unknown): string {
  return typeof mime === "string" && /^image\/(png|jpeg|gif|webp)$/.test(mime) ? mime : "application/octet-stream";
}

/** formatSize renders a byte count for people. */
export function formatSize(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "";
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB"];
  let v = n / 1024;
  let i = 0;
  for (; v >= 1024 && i < units.length - 1; i++) v /= 1024;
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** thumbSize fits w×h into a box, never enlarging. */
export function thumbSize(w: number, h: number, maxW = 320, maxH = 240): { w: number; h: number } {
  if (!(w > 0 && h > 0)) return { w: maxW, h: maxH };
  const s = Math.min(1, maxW / w, maxH / h);
  return { w: Math.max(1, Math.round(w * s)), h: Math.max(1, Math.round(h * s)) };
}

async function imageDimensions(file: Blob): Promise<{ w: number; h: number } | undefined> {
  try {
    const bmp = await createImageBitmap(file);
    const d = { w: bmp.width, h: bmp.height };
    bmp.close();
    return d;
  } catch {
    return undefined;
  }
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

/**
 * uploadAttachment uploads a file and returns the message content to send.
 * In an encrypted room the bytes are encrypted first and the content carries
 * `file` (an EncryptedFile) instead of `url`.
 */
export async function uploadAttachment(
  client: MatrixClient,
  file: File,
  encrypted: boolean,
  onProgress: (p: UploadProgress) => void,
  abort: AbortController,
): Promise<Record<string, unknown>> {
  const mimetype = file.type || "application/octet-stream";
  const msgtype = msgtypeFor(mimetype);
  const info: Record<string, unknown> = { mimetype, size: file.size };
  if (msgtype === "m.image") {
    const d = await imageDimensions(file);
    if (d) Object.assign(info, d);
  }
  const name = file.name || "file";
  const content: Record<string, unknown> = { msgtype, body: name, filename: name, info };
  const progressHandler = (p: UploadProgress) => onProgress({ loaded: p.loaded, total: p.total });
  if (encrypted) {
    const { data, file: enc } = await encryptAttachment(await file.arrayBuffer());
    // The server must learn nothing from the upload: no name, opaque type.
    const blob = new Blob([data], { type: "application/octet-stream" });
    const res = await client.uploadContent(blob, { type: "application/octet-stream", includeFilename: false, progressHandler, abortController: abort });
    content.file = { ...enc, url: res.content_uri };
  } else {
    const res = await client.uploadContent(file, { name, type: mimetype, progressHandler, abortController: abort });
    content.url = res.content_uri;
  }
  return content;
}

export interface MediaSource {
  url?: string;
  file?: EncryptedFile;
  mimetype?: string;
}

/** sourceOf reads url/file and the MIME type from message content. */
export function sourceOf(c: Record<string, unknown>): MediaSource | undefined {
  const info = (c.info ?? {}) as Record<string, unknown>;
  const mimetype = typeof info.mimetype === "string" ? info.mimetype : undefined;
  const file = c.file as EncryptedFile | undefined;
  if (file && typeof file === "object" && typeof file.url === "string" && file.url.startsWith("mxc://")) return { file, mimetype };
  if (typeof c.url === "string" && c.url.startsWith("mxc://")) return { url: c.url, mimetype };
  return undefined;
}

const caches = new WeakMap<MatrixClient, Map<string, Promise<string>>>();

/**
 * mediaURL fetches (and decrypts) media and returns an object URL, cached per
 * client. With thumb, an unencrypted image is fetched as a server-side
 * thumbnail; encrypted media always downloads the whole file.
 */
export function mediaURL(client: MatrixClient, src: MediaSource, thumb?: { w: number; h: number }): Promise<string> {
  let cache = caches.get(client);
  if (!cache) caches.set(client, (cache = new Map()));
  const mxc = src.file?.url ?? src.url ?? "";
  const key = src.file || !thumb ? mxc : `${mxc}#${thumb.w}x${thumb.h}`;
  let p = cache.get(key);
  if (!p) {
    p = loadMedia(client, src, src.file ? undefined : thumb);
    cache.set(key, p);
    p.catch(() => cache!.delete(key));
  }
  return p;
}

async function loadMedia(client: MatrixClient, src: MediaSource, thumb?: { w: number; h: number }): Promise<string> {
  const mxc = src.file?.url ?? src.url ?? "";
  let data: ArrayBuffer | undefined;
  if (thumb) {
    const url = client.mxcUrlToHttp(mxc, thumb.w, thumb.h, "scale", false, true, true);
    data = url ? await fetchAuthed(client, url).catch(() => undefined) : undefined;
  }
  if (!data) {
    const url = client.mxcUrlToHttp(mxc, undefined, undefined, undefined, false, true, true);
    if (!url) throw new Error(`not a media URL: ${mxc}`);
    data = await fetchAuthed(client, url);
  }
  if (src.file) data = await decryptAttachment(data, src.file);
  return URL.createObjectURL(new Blob([data], { type: displayType(src.mimetype) }));
}

async function fetchAuthed(client: MatrixClient, url: string): Promise<ArrayBuffer> {
  const res = await fetch(url, { headers: { Authorization: `Bearer ${client.getAccessToken()}` } });
  if (!res.ok) throw new Error(`media fetch failed: HTTP ${res.status}`);
  return res.arrayBuffer();
}

/** forgetMedia revokes every object URL made for this client (sign-out). */
export async function forgetMedia(client: MatrixClient): Promise<void> {
  const cache = caches.get(client);
  caches.delete(client);
  for (const p of cache?.values() ?? []) URL.revokeObjectURL(await p.catch(() => ""));
}
