// The threads side panels: the list of threads in the loaded history, and
// one thread (its root and replies) with a composer that sends replies with
// an m.thread relation (client-server API, "Threading").
import { EventType, MatrixClient, Room } from "matrix-js-sdk";
import { useMemo, useState } from "preact/hooks";
import { useI18n } from "../app";
import { errorMessage } from "../errors";
import { nameOf, toRaw } from "./events";
import { formatMessage } from "./markdown";
import { MessageRow } from "./Message";
import { buildItems, listThreads, stripReplyFallback, THREAD } from "./timeline";

interface PanelProps {
  client: MatrixClient;
  room: Room;
  tick: number;
  onClose: () => void;
}

/**
 * threadReplyContent: a reply in a thread. m.in_reply_to points at the
 * latest event with is_falling_back, so clients without thread support
 * still show it as a reply (spec: "Threading", fallback for unthreaded clients).
 */
export function threadReplyContent(body: string, rootId: string, latestId: string) {
  return { ...formatMessage(body), "m.relates_to": { rel_type: THREAD, event_id: rootId, is_falling_back: true, "m.in_reply_to": { event_id: latestId } } };
}

export function ThreadPanel({ client, room, tick, rootId, onClose }: PanelProps & { rootId: string }) {
  const { t } = useI18n();
  const me = client.getUserId()!;
  const sdkEvents = room.getLiveTimeline().getEvents();
  const byId = useMemo(() => new Map(sdkEvents.map((e) => [e.getId() ?? "", e])), [tick, sdkEvents.length]);
  const items = useMemo(() => buildItems(sdkEvents.map(toRaw), me, { thread: rootId }), [tick, sdkEvents.length, rootId]);
  const events = items.filter((i) => i.kind === "event");
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const send = async (e?: Event) => {
    e?.preventDefault();
    const body = text.trim();
    if (!body) return;
    const latest = events.length ? events[events.length - 1].key : rootId;
    setText("");
    setError("");
    try {
      await client.sendEvent(room.roomId, EventType.RoomMessage, threadReplyContent(body, rootId, latest) as never);
    } catch (err) {
      setError(errorMessage(t, err));
      setText(body);
    }
  };
  return (
    <aside class="panel thread-panel" aria-label={t("thread.title")} data-testid="thread-panel">
      <header class="dialog-head">
        <h3>{t("thread.title")}</h3>
        <button class="secondary" onClick={onClose} aria-label={t("settings.close")}>×</button>
      </header>
      {!events.some((i) => i.key === rootId) && <p class="muted">{t("thread.rootMissing")}</p>}
      <ol class="thread-messages">
        {items.map((it) =>
          it.kind === "event" ? (
            <MessageRow key={it.key} client={client} room={room} item={it} sdk={byId.get(it.ev.id)} findEvent={(id) => byId.get(id)} onDraft={() => {}} />
          ) : null,
        )}
      </ol>
      <form class="thread-composer" onSubmit={send}>
        <textarea
          aria-label={t("thread.composer")}
          rows={2}
          value={text}
          onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) void send(e);
          }}
        />
        <button class="primary" type="submit">{t("thread.send")}</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
    </aside>
  );
}

export function ThreadList({ room, tick, onClose, onOpen }: PanelProps & { onOpen: (rootId: string) => void }) {
  const { t } = useI18n();
  const sdkEvents = room.getLiveTimeline().getEvents();
  const threads = useMemo(() => listThreads(sdkEvents.map(toRaw)), [tick, sdkEvents.length]);
  return (
    <aside class="panel" aria-label={t("thread.list")} data-testid="thread-list">
      <header class="dialog-head">
        <h3>{t("thread.list")}</h3>
        <button class="secondary" onClick={onClose} aria-label={t("settings.close")}>×</button>
      </header>
      {threads.length === 0 && <p class="muted">{t("thread.none")}</p>}
      <ul class="threads">
        {threads.map(({ root, summary }) => {
          const ev = room.findEventById(root);
          const body = ev ? stripReplyFallback(String(ev.getContent().body ?? "")) : root;
          return (
            <li key={root}>
              <button class="thread-item" data-testid="thread-item" onClick={() => onOpen(root)}>
                <strong>{ev ? nameOf(room, ev.getSender() ?? "") : "…"}</strong> <span class="thread-body">{body.slice(0, 120)}</span>
                <span class="muted"> · {summary.count === 1 ? t("thread.oneReply") : t("thread.replies", { count: summary.count })}</span>
              </button>
            </li>
          );
        })}
      </ul>
    </aside>
  );
}
