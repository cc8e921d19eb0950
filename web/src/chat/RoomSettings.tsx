// Room settings side panel: name and topic.
import { EventType, MatrixClient, Room } from "matrix-js-sdk";
import { useState } from "preact/hooks";
import { useI18n } from "../app";
import { errorMessage } from "../errors";
import { Field } from "../ui/Field";

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
