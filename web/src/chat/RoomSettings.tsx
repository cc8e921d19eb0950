// Room settings side panel: name and topic.
import { EventType, MatrixClient, Room } from "matrix-js-sdk";

import { useI18n } from "../app";
import { canSendState } from "./power";
import { errorMessage } from "../errors";
import { Field } from "../ui/Field";
import { mediaURL } from "./media";
import { useEffect, useRef, useState } from "preact/hooks";

export function RoomSettings({ client, room, onClose }: { client: MatrixClient; room: Room; onClose: () => void }) {
  const { t } = useI18n();
  const state = room.currentState;
  const [name, setName] = useState(String(state.getStateEvents(EventType.RoomName, "")?.getContent().name ?? ""));
  const [topic, setTopic] = useState(String(state.getStateEvents(EventType.RoomTopic, "")?.getContent().topic ?? ""));
  const [status, setStatus] = useState("");
  const [busy, setBusy] = useState(false);
  const alias = room.getCanonicalAlias();
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setStatus("");
    try {
      const oldName = String(state.getStateEvents(EventType.RoomName, "")?.getContent().name ?? "");
      const oldTopic = String(state.getStateEvents(EventType.RoomTopic, "")?.getContent().topic ?? "");
      if (name.trim() !== oldName) await client.setRoomName(room.roomId, name.trim());
      if (topic.trim() !== oldTopic) await client.setRoomTopic(room.roomId, topic.trim());
      setStatus(t("settings.saved"));
    } catch (err) {
      setStatus(errorMessage(t, err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <aside class="panel" aria-label={t("room.settings")} data-testid="room-settings">
      <header class="dialog-head">
        <h3>{t("room.settings")}</h3>
        <button class="secondary" onClick={onClose} aria-label={t("settings.close")}>×</button>
      </header>
      <form onSubmit={save}>
        <Field label={t("create.name")} name="room-name" value={name} onInput={setName} />
        <Field label={t("create.topic")} name="room-topic" value={topic} onInput={setTopic} />
        <div class="row">
          <button class="primary" type="submit" disabled={busy}>{t("settings.save")}</button>
          {status && <span role="status">{status}</span>}
        </div>
      </form>
      <RoomAvatar client={client} room={room} />
      <StateSelect client={client} room={room} type={EventType.RoomJoinRules} field="join_rule" label={t("roomSettings.joinRule")}
        options={[["invite", t("roomSettings.joinInvite")], ["public", t("roomSettings.joinPublic")], ["knock", t("roomSettings.joinKnock")]]} />
      <StateSelect client={client} room={room} type={EventType.RoomHistoryVisibility} field="history_visibility" label={t("roomSettings.history")}
        options={[["shared", t("roomSettings.historyShared")], ["invited", t("roomSettings.historyInvited")], ["joined", t("roomSettings.historyJoined")], ["world_readable", t("roomSettings.historyWorld")]]} />
      <dl class="facts">
        <dt>{t("room.id")}</dt>
        <dd>{room.roomId}</dd>
        {alias && <dt>{t("room.alias")}</dt>}
        {alias && <dd>{alias}</dd>}
        <dt>{t("room.encryption")}</dt>
        <dd>{room.hasEncryptionStateEvent() ? t("room.encrypted") : t("room.notEncrypted")}</dd>
      </dl>
    </aside>
  );
}

/** StateSelect edits one string field of a state event with empty state key. */
function StateSelect(p: { client: MatrixClient; room: Room; type: EventType; field: string; label: string; options: [string, string][] }) {
  const { t } = useI18n();
  const current = String(p.room.currentState.getStateEvents(p.type, "")?.getContent()[p.field] ?? "");
  const [status, setStatus] = useState("");
  const allowed = canSendState(p.room, p.client.getUserId()!, p.type);
  const id = `rs-${p.field}`;
  const change = async (v: string) => {
    setStatus("");
    try {
      await p.client.sendStateEvent(p.room.roomId, p.type as never, { [p.field]: v } as never, "");
      setStatus(t("settings.saved"));
    } catch (e) {
      setStatus(errorMessage(t, e));
    }
  };
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <select id={id} value={current} disabled={!allowed} onChange={(e) => void change((e.currentTarget as HTMLSelectElement).value)}>
        {!p.options.some(([v]) => v === current) && <option value={current}>{current || "—"}</option>}
        {p.options.map(([v, label]) => <option key={v} value={v}>{label}</option>)}
      </select>
      {status && <span role="status" class="muted">{status}</span>}
    </div>
  );
}

/** RoomAvatar shows the room's avatar and lets those allowed replace it. */
function RoomAvatar({ client, room }: { client: MatrixClient; room: Room }) {
  const { t } = useI18n();
  const mxc = room.currentState.getStateEvents(EventType.RoomAvatar, "")?.getContent().url as string | undefined;
  const [url, setUrl] = useState("");
  const [status, setStatus] = useState("");
  const picker = useRef<HTMLInputElement>(null);
  const allowed = canSendState(room, client.getUserId()!, EventType.RoomAvatar);
  useEffect(() => {
    if (mxc?.startsWith("mxc://")) void mediaURL(client, { url: mxc, mimetype: "image/png" }, { w: 96, h: 96 }).then(setUrl, () => setUrl(""));
  }, [mxc]);
  const upload = async (f: File) => {
    setStatus(t("media.loading"));
    try {
      // Room avatars are state, readable by anyone who can see the room: never encrypted.
      const res = await client.uploadContent(f, { name: f.name, type: f.type });
      await client.sendStateEvent(room.roomId, EventType.RoomAvatar, { url: res.content_uri }, "");
      setStatus(t("settings.saved"));
    } catch (e) {
      setStatus(errorMessage(t, e));
    }
  };
  return (
    <div class="row">
      {url ? <img class="avatar big" src={url} alt={t("roomSettings.avatar")} data-testid="room-avatar" /> : <span class="avatar big" aria-hidden="true">{room.name.slice(0, 1).toUpperCase()}</span>}
      {allowed && (
        <>
          <input ref={picker} type="file" accept="image/png,image/jpeg,image/gif,image/webp" hidden data-testid="room-avatar-input"
            onChange={(e) => {
              const f = (e.currentTarget as HTMLInputElement).files?.[0];
              if (f) void upload(f);
            }} />
          <button class="secondary small" onClick={() => picker.current?.click()}>{t("roomSettings.changeAvatar")}</button>
        </>
      )}
      {status && <span role="status" class="muted">{status}</span>}
    </div>
  );
}
