// Uploads in progress for one room: started from the file picker, a drop or
// a paste; each shows a progress bar, can be cancelled, and is sent as a
// message once uploaded.
import type { MatrixClient, Room } from "matrix-js-sdk";
import { useRef, useState } from "preact/hooks";
import { useI18n } from "../app";
import { errorMessage } from "../errors";
import { formatSize, uploadAttachment } from "./media";

export interface UploadItem {
  id: number;
  name: string;
  loaded: number;
  total: number;
  error?: string;
  abort: AbortController;
}

export function useUploads(client: MatrixClient, room: Room, onSent: () => void) {
  const { t } = useI18n();
  const [items, setItems] = useState<UploadItem[]>([]);
  const next = useRef(1);
  const update = (id: number, patch: Partial<UploadItem>) => setItems((xs) => xs.map((x) => (x.id === id ? { ...x, ...patch } : x)));
  const remove = (id: number) => setItems((xs) => xs.filter((x) => x.id !== id));

  const one = async (file: File) => {
    const item: UploadItem = { id: next.current++, name: file.name || "file", loaded: 0, total: file.size, abort: new AbortController() };
    setItems((xs) => [...xs, item]);
    try {
      const encrypted = room.hasEncryptionStateEvent();
      const content = await uploadAttachment(client, file, encrypted, (p) => update(item.id, p), item.abort);
      onSent();
      await client.sendMessage(room.roomId, content as never);
      remove(item.id);
    } catch (e) {
      if (item.abort.signal.aborted) remove(item.id);
      else update(item.id, { error: errorMessage(t, e) });
    }
  };
  const start = (files: Iterable<File>) => {
    for (const f of files) void one(f);
  };
  const cancel = (it: UploadItem) => {
    it.abort.abort();
    remove(it.id);
  };
  return { items, start, cancel };
}

export function UploadList({ items, onCancel }: { items: UploadItem[]; onCancel: (it: UploadItem) => void }) {
  const { t } = useI18n();
  if (!items.length) return null;
  return (
    <ul class="uploads" aria-label={t("media.uploads")} data-testid="uploads">
      {items.map((it) => (
        <li key={it.id} class="upload">
          <span class="file-name">{it.name}</span>
          {it.error ? (
            <span class="error" role="alert">{t("media.uploadFailed", { error: it.error })}</span>
          ) : (
            <>
              <progress max={it.total || 1} value={it.loaded} aria-label={t("media.uploading", { name: it.name })} />
              <span class="muted">{formatSize(it.loaded)} / {formatSize(it.total)}</span>
            </>
          )}
          <button type="button" class="link" onClick={() => onCancel(it)}>{it.error ? t("media.dismiss") : t("composer.cancel")}</button>
        </li>
      ))}
    </ul>
  );
}
