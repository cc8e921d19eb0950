// Dialogs opened from the room list: create a room, start a DM, browse the
// public room directory and join by alias.
import { EventType, MatrixClient, Preset, Visibility } from "matrix-js-sdk";
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { useI18n } from "../app";
import { errorMessage } from "../errors";
import { Field } from "../ui/Field";
import { aliasLocalpart, validAlias, validUserId } from "./ids";
import { initials } from "./rooms";

/** The encryption state new private rooms and DMs start with (spec: m.room.encryption). */
const ENCRYPTION = { type: EventType.RoomEncryption, state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } };

function Dialog({ title, onClose, children, testId }: { title: string; onClose: () => void; children: ComponentChildren; testId: string }) {
  const { t } = useI18n();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>("input")?.focus();
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  return (
    <div class="overlay" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class="dialog" role="dialog" aria-modal="true" aria-label={title} ref={ref} data-testid={testId}>
        <header class="dialog-head">
          <h2>{title}</h2>
          <button class="secondary" onClick={onClose} aria-label={t("settings.close")}>×</button>
        </header>
        {children}
      </div>
    </div>
  );
}

interface Props {
  client: MatrixClient;
  onClose: () => void;
  onOpened: (roomId: string) => void;
}

export function CreateRoomDialog({ client, onClose, onOpened }: Props) {
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [topic, setTopic] = useState("");
  const [isPublic, setPublic] = useState(false);
  const [alias, setAlias] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!name.trim()) return setError(t("create.nameRequired"));
    setBusy(true);
    setError("");
    try {
      const local = isPublic ? aliasLocalpart(alias || name) : "";
      const res = await client.createRoom({
        name: name.trim(),
        topic: topic.trim() || undefined,
        visibility: isPublic ? Visibility.Public : Visibility.Private,
        preset: isPublic ? Preset.PublicChat : Preset.PrivateChat,
        room_alias_name: local || undefined,
        initial_state: isPublic ? [] : [ENCRYPTION],
      });
      onOpened(res.room_id);
    } catch (err) {
      setError(errorMessage(t, err));
      setBusy(false);
    }
  };
  return (
    <Dialog title={t("create.title")} onClose={onClose} testId="create-room">
      <form onSubmit={submit}>
        <Field label={t("create.name")} name="create-name" value={name} onInput={setName} />
        <Field label={t("create.topic")} name="create-topic" value={topic} onInput={setTopic} />
        <label class="check">
          <input type="checkbox" checked={isPublic} onChange={(e) => setPublic((e.currentTarget as HTMLInputElement).checked)} />
          {t("create.public")}
        </label>
        {isPublic ? (
          <Field label={t("create.alias")} name="create-alias" value={alias} onInput={setAlias} placeholder={aliasLocalpart(name)} hint={t("create.aliasHint")} />
        ) : (
          <p class="muted">🔒 {t("create.privateEncrypted")}</p>
        )}
        {error && <p class="error" role="alert">{error}</p>}
        <button class="primary" type="submit" disabled={busy}>{t("create.submit")}</button>
      </form>
    </Dialog>
  );
}

interface Found {
  user_id: string;
  display_name?: string;
}

export function StartDMDialog({ client, onClose, onOpened }: Props) {
  const { t } = useI18n();
  const [term, setTerm] = useState("");
  const [found, setFound] = useState<Found[]>([]);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const q = term.trim();
    if (q.length < 2) return setFound([]);
    const timer = setTimeout(() => {
      // The user directory is optional on a server: without it, a full user ID still works.
      client.searchUserDirectory({ term: q, limit: 10 }).then(
        (r) => setFound(r.results),
        () => setFound([]),
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [term]);
  const start = async (userId: string) => {
    if (!validUserId(userId)) return setError(t("dm.badUserId"));
    setBusy(true);
    setError("");
    try {
      const res = await client.createRoom({
        is_direct: true,
        invite: [userId],
        preset: Preset.TrustedPrivateChat,
        visibility: Visibility.Private,
        initial_state: [ENCRYPTION],
      });
      await markDirect(client, userId, res.room_id);
      onOpened(res.room_id);
    } catch (err) {
      setError(errorMessage(t, err));
      setBusy(false);
    }
  };
  const q = term.trim();
  return (
    <Dialog title={t("dm.title")} onClose={onClose} testId="start-dm">
      <form onSubmit={(e) => (e.preventDefault(), void start(q))}>
        <Field label={t("dm.who")} name="dm-user" value={term} onInput={setTerm} placeholder="@name:server" hint={t("dm.hint")} />
        <ul class="results">
          {found.map((u) => (
            <li key={u.user_id}>
              <button type="button" class="room" disabled={busy} onClick={() => start(u.user_id)}>
                <span class="avatar small" aria-hidden="true">{initials(u.display_name || u.user_id)}</span>
                <span class="room-name">{u.display_name || u.user_id} <span class="muted">{u.user_id}</span></span>
              </button>
            </li>
          ))}
        </ul>
        {error && <p class="error" role="alert">{error}</p>}
        <button class="primary" type="submit" disabled={busy || !q}>{t("dm.start")}</button>
      </form>
    </Dialog>
  );
}

/** markDirect records the DM in m.direct account data (spec: "Direct Messaging"). */
export async function markDirect(client: MatrixClient, userId: string, roomId: string): Promise<void> {
  const current = (client.getAccountData(EventType.Direct)?.getContent() ?? {}) as Record<string, string[]>;
  const rooms = current[userId] ?? [];
  if (rooms.includes(roomId)) return;
  await client.setAccountData(EventType.Direct, { ...current, [userId]: [...rooms, roomId] });
}

interface PublicRoom {
  room_id: string;
  name?: string;
  topic?: string;
  canonical_alias?: string;
  num_joined_members: number;
}

export function DirectoryDialog({ client, onClose, onOpened }: Props) {
  const { t } = useI18n();
  const [rooms, setRooms] = useState<PublicRoom[] | null>(null);
  const [target, setTarget] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    client.publicRooms({ limit: 50 }).then(
      (r) => setRooms(r.chunk as PublicRoom[]),
      (e) => (setRooms([]), setError(errorMessage(t, e))),
    );
  }, []);
  const join = async (idOrAlias: string) => {
    const v = idOrAlias.trim();
    if (!validAlias(v) && !/^!.+:.+$/.test(v)) return setError(t("directory.badAlias"));
    setBusy(true);
    setError("");
    try {
      const room = await client.joinRoom(v);
      onOpened(room.roomId);
    } catch (err) {
      setError(errorMessage(t, err));
      setBusy(false);
    }
  };
  return (
    <Dialog title={t("directory.title")} onClose={onClose} testId="directory">
      <form onSubmit={(e) => (e.preventDefault(), void join(target))} class="inline-form">
        <input aria-label={t("directory.aliasLabel")} placeholder="#room:server" value={target} onInput={(e) => setTarget((e.currentTarget as HTMLInputElement).value)} />
        <button class="primary" type="submit" disabled={busy}>{t("directory.join")}</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {rooms === null ? (
        <p class="muted">{t("directory.loading")}</p>
      ) : rooms.length === 0 ? (
        <p class="muted">{t("directory.empty")}</p>
      ) : (
        <ul class="results" data-testid="public-rooms">
          {rooms.map((r) => (
            <li key={r.room_id} class="public-room">
              <span class="avatar small" aria-hidden="true">{initials(r.name || r.canonical_alias || "#")}</span>
              <div class="room-name">
                <strong>{r.name || r.canonical_alias || r.room_id}</strong>
                <div class="muted">{[r.canonical_alias, t("directory.members", { count: r.num_joined_members })].filter(Boolean).join(" · ")}</div>
                {r.topic && <div class="muted">{r.topic}</div>}
              </div>
              <button class="secondary" disabled={busy} onClick={() => join(r.canonical_alias || r.room_id)}>{t("directory.join")}</button>
            </li>
          ))}
        </ul>
      )}
    </Dialog>
  );
}
