// Image, video, audio and file messages: previews fetched with the access
// token (and decrypted in encrypted rooms), a lightbox for images and a
// download button for everything else.
import type { MatrixClient } from "matrix-js-sdk";
import { useEffect, useRef, useState } from "preact/hooks";
import { useI18n } from "../app";
import { displayType, formatSize, mediaURL, MediaSource, sourceOf, thumbSize } from "./media";

interface Props {
  client: MatrixClient;
  content: Record<string, unknown>;
}

export function AttachmentBody({ client, content }: Props) {
  const { t } = useI18n();
  const src = sourceOf(content);
  const name = String(content.filename ?? content.body ?? "file");
  if (!src) return <div class="body muted">{t("media.missing")}</div>;
  if (content.msgtype === "m.image" && displayType(src.mimetype) !== "application/octet-stream")
    return <ImagePreview client={client} src={src} content={content} name={name} />;
  return <FileCard client={client} src={src} content={content} name={name} />;
}

function ImagePreview({ client, src, content, name }: { client: MatrixClient; src: MediaSource; content: Record<string, unknown>; name: string }) {
  const { t } = useI18n();
  const info = (content.info ?? {}) as Record<string, number>;
  const box = thumbSize(Number(info.w), Number(info.h));
  const [url, setUrl] = useState("");
  const [failed, setFailed] = useState(false);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    let live = true;
    // Ask the server for twice the box for sharp previews on dense screens.
    mediaURL(client, src, { w: box.w * 2, h: box.h * 2 }).then(
      (u) => live && setUrl(u),
      () => live && setFailed(true),
    );
    return () => void (live = false);
  }, [src.url ?? src.file?.url]);
  if (failed) return <div class="body muted" data-testid="media-error">{t("media.failed", { name })}</div>;
  return (
    <div class="body">
      <button class="image-thumb" style={{ width: `${box.w}px`, height: `${box.h}px` }} onClick={() => setOpen(true)} aria-label={t("media.open", { name })} data-testid="image">
        {url ? <img src={url} alt={name} width={box.w} height={box.h} /> : <span class="muted">{t("media.loading")}</span>}
      </button>
      {open && <Lightbox client={client} src={src} name={name} onClose={() => setOpen(false)} />}
    </div>
  );
}

function Lightbox({ client, src, name, onClose }: { client: MatrixClient; src: MediaSource; name: string; onClose: () => void }) {
  const { t } = useI18n();
  const [url, setUrl] = useState("");
  const [failed, setFailed] = useState(false);
  const closeBtn = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    let live = true;
    mediaURL(client, src).then((u) => live && setUrl(u), () => live && setFailed(true));
    closeBtn.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => {
      live = false;
      window.removeEventListener("keydown", onKey);
    };
  }, []);
  return (
    <div class="overlay lightbox" role="dialog" aria-modal="true" aria-label={name} onClick={(e) => e.target === e.currentTarget && onClose()} data-testid="lightbox">
      <div class="lightbox-bar">
        <span class="lightbox-name">{name}</span>
        {url && <a class="button secondary" href={url} download={name}>{t("media.download")}</a>}
        <button ref={closeBtn} class="secondary" onClick={onClose} aria-label={t("media.close")}>×</button>
      </div>
      {failed ? <p class="error">{t("media.failed", { name })}</p> : url ? <img src={url} alt={name} /> : <p class="muted">{t("media.loading")}</p>}
    </div>
  );
}

function FileCard({ client, src, content, name }: { client: MatrixClient; src: MediaSource; content: Record<string, unknown>; name: string }) {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const size = Number(((content.info ?? {}) as Record<string, unknown>).size);
  const download = async () => {
    setBusy(true);
    setError("");
    try {
      const a = document.createElement("a");
      // Always an opaque type: the file is saved, never opened as a page.
      a.href = await mediaURL(client, { ...src, mimetype: "application/octet-stream" });
      a.download = name;
      a.click();
    } catch {
      setError(t("media.failed", { name }));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="body file-card" data-testid="file">
      <span class="file-icon" aria-hidden="true">📄</span>
      <span class="file-name">{name}</span>
      {size > 0 && <span class="muted"> {formatSize(size)}</span>}
      <button class="secondary small" disabled={busy} onClick={download}>{busy ? t("media.loading") : t("media.download")}</button>
      {error && <span class="error" role="alert"> {error}</span>}
    </div>
  );
}
