// One room: its live timeline and the composer.
import { EventType, MatrixClient, MatrixEvent, MsgType, Room } from "matrix-js-sdk";
import { useEffect, useRef, useState } from "preact/hooks";
import { useI18n } from "../app";
import { errorMessage } from "../errors";
import { initials } from "./rooms";

interface Props {
  client: MatrixClient;
  room: Room;
  tick: number;
  onBack: () => void;
}

export function RoomView({ client, room, tick, onBack }: Props) {
  const { t } = useI18n();
  const events = room.getLiveTimeline().getEvents().filter(shown);
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => end.current?.scrollIntoView({ block: "end" }), [room.roomId, tick]);
  return (
    <section class="room-view" aria-label={room.name}>
      <header class="room-head">
        <button class="back secondary" onClick={onBack} aria-label={t("main.back")}>‹</button>
        <h2>{room.name}</h2>
      </header>
      <ol class="timeline" aria-label={t("timeline.label", { room: room.name })} aria-live="polite">
        {events.length === 0 && <li class="muted empty">{t("timeline.empty")}</li>}
        {events.map((ev) => (
          <li key={ev.getId() ?? ev.getTxnId()} class="message">
            <span class="avatar small" aria-hidden="true">{initials(ev.sender?.name ?? ev.getSender() ?? "?")}</span>
            <div>
              <div class="meta">
                <strong>{ev.sender?.name ?? ev.getSender()}</strong>{" "}
                <time class="muted" dateTime={new Date(ev.getTs()).toISOString()}>
                  {new Date(ev.getTs()).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}
                </time>
              </div>
              <div class="body">{bodyOf(ev, t)}</div>
            </div>
          </li>
        ))}
        <div ref={end} />
      </ol>
      <Composer client={client} room={room} />
    </section>
  );
}

function shown(ev: MatrixEvent): boolean {
  const type = ev.getType();
  return type === EventType.RoomMessage || type === EventType.RoomMessageEncrypted;
}

function bodyOf(ev: MatrixEvent, t: ReturnType<typeof useI18n>["t"]): string {
  if (ev.isDecryptionFailure() || ev.getType() === EventType.RoomMessageEncrypted) return t("timeline.encrypted");
  const body = ev.getContent().body;
  return typeof body === "string" ? body : t("timeline.unsupported", { type: ev.getType() });
}

function Composer({ client, room }: { client: MatrixClient; room: Room }) {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const send = async (e?: Event) => {
    e?.preventDefault();
    const body = text.trim();
    if (!body) return;
    setText("");
    setError("");
    try {
      await client.sendMessage(room.roomId, { msgtype: MsgType.Text, body });
    } catch (err) {
      setError(t("composer.failed", { error: errorMessage(t, err) }));
      setText(body);
    }
  };
  return (
    <form class="composer" onSubmit={send}>
      {error && <p class="error" role="alert">{error}</p>}
      <textarea
        aria-label={t("composer.label")}
        placeholder={t("composer.placeholder", { room: room.name })}
        value={text}
        rows={1}
        onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) void send(e);
        }}
      />
      <button type="submit" class="primary">{t("composer.send")}</button>
    </form>
  );
}
