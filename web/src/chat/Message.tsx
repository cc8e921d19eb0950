// One row of the timeline: a message with its reply quote, reactions and
// actions (reply, react, edit, delete), or a one-line state notice.
import { EventType, MatrixClient, MatrixEvent, RelationType, Room } from "matrix-js-sdk";
import { useState } from "preact/hooks";
import { useI18n } from "../app";
import { errorMessage } from "../errors";
import type { Draft } from "./Composer";
import { AttachmentBody } from "./Attachment";
import { CALL_NOTICES, callNotice } from "./calls";
import { nameOf, stateNotice, whyUndecryptable } from "./events";
import { canModerate } from "./power";
import { initials } from "./rooms";
import { sanitizeHTML } from "./sanitize";
import { Item, startOfDay, stripReplyFallback } from "./timeline";

type EventItem = Extract<Item, { kind: "event" }>;
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉"];

export function DaySeparator({ day, row }: { day: number; row?: number }) {
  const { t, lang } = useI18n();
  const today = startOfDay(Date.now());
  const label =
    day === today
      ? t("timeline.today")
      : day === startOfDay(today - 1)
        ? t("timeline.yesterday")
        : new Date(day).toLocaleDateString(lang, { weekday: "long", year: "numeric", month: "long", day: "numeric" });
  return (
    <li class="day" role="separator" aria-label={label} data-testid="day-separator" data-row={row}>
      <span>{label}</span>
    </li>
  );
}

interface RowProps {
  client: MatrixClient;
  room: Room;
  item: EventItem;
  sdk?: MatrixEvent;
  findEvent: (id: string) => MatrixEvent | undefined;
  onDraft: (d: Draft) => void;
  /** onThread opens the thread rooted at this message (absent inside a thread). */
  onThread?: (rootId: string) => void;
  /** firstUnread marks the first message after the read marker. */
  firstUnread?: boolean;
  /** row is the index in a virtualised list, for measuring. */
  row?: number;
}

export function MessageRow({ client, room, item, sdk, findEvent, onDraft, onThread, firstUnread, row }: RowProps) {
  const { t } = useI18n();
  const [error, setError] = useState("");
  const ev = item.ev;
  if (ev.stateKey !== undefined)
    return (
      <li class="state-notice muted" data-testid="notice" data-row={row}>
        {stateNotice(t, room, ev, sdk?.getPrevContent() as Record<string, unknown> | undefined)}
      </li>
    );
  if (CALL_NOTICES.has(ev.type) && !ev.redacted)
    return (
      <li class="state-notice muted call-notice" data-testid="call-notice" data-row={row}>
        {callNotice(t, (id) => nameOf(room, id), ev, item.call)}
      </li>
    );
  const me = client.getUserId()!;
  const mine = ev.sender === me;
  const name = nameOf(room, ev.sender);
  const isText = !ev.redacted && !ev.failed && ev.type === EventType.RoomMessage && typeof item.content.body === "string";
  const canRedact = !ev.redacted && !ev.pending && (mine || canModerate(room, me, "redact"));
  const run = (p: Promise<unknown>) => p.catch((e) => setError(errorMessage(t, e)));
  const react = (key: string) => {
    const existing = item.reactions.find((r) => r.key === key)?.mine;
    if (existing) return run(client.redactEvent(room.roomId, existing));
    return run(client.sendEvent(room.roomId, EventType.Reaction, { "m.relates_to": { rel_type: RelationType.Annotation, event_id: ev.id, key } }));
  };
  return (
    <li class={(item.continued && !firstUnread ? "message continued" : "message") + (firstUnread ? " first-unread" : "")} data-testid="message" data-event-id={ev.id} data-sender={ev.sender} data-row={row}>
      {firstUnread && <span class="unread-line" data-testid="unread-line">{t("unread.marker")}</span>}
      <span class="avatar small" aria-hidden="true">{item.continued ? "" : initials(name)}</span>
      <div class="message-main">
        {!item.continued && (
          <div class="meta">
            <strong class="sender">{name}</strong>{" "}
            <time class="muted" dateTime={new Date(ev.ts).toISOString()}>
              {new Date(ev.ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}
            </time>
          </div>
        )}
        {item.replyTo && <ReplyQuote room={room} target={findEvent(item.replyTo)} />}
        <Body client={client} item={item} sdk={sdk} />
        {item.reactions.length > 0 && (
          <div class="reactions" role="group" aria-label={t("message.reactions")}>
            {item.reactions.map((r) => (
              <button
                key={r.key}
                class={r.mine ? "reaction mine" : "reaction"}
                aria-pressed={!!r.mine}
                title={r.senders.map((s) => nameOf(room, s)).join(", ")}
                onClick={() => react(r.key)}
                data-testid="reaction"
              >
                {r.key} {r.count}
              </button>
            ))}
          </div>
        )}
        {item.thread && onThread && (
          <button class="link thread-summary" data-testid="thread-summary" onClick={() => onThread(ev.id)}>
            🧵 {item.thread.count === 1 ? t("thread.oneReply") : t("thread.replies", { count: item.thread.count })}
          </button>
        )}
        {error && <p class="error" role="alert">{error}</p>}
      </div>
      {!ev.redacted && !ev.pending && !ev.failed && (
        <div class="actions" role="toolbar" aria-label={t("message.actions")}>
          {QUICK_REACTIONS.map((k) => (
            <button key={k} class="icon" aria-label={t("message.react", { key: k })} onClick={() => react(k)}>{k}</button>
          ))}
          {onThread && <button class="icon" aria-label={t("message.reply")} onClick={() => onDraft({ kind: "reply", eventId: ev.id })}>↩</button>}
          {onThread && <button class="icon" aria-label={t("thread.open")} onClick={() => onThread(ev.id)}>🧵</button>}
          {onThread && mine && isText && (
            <button class="icon" aria-label={t("message.edit")} onClick={() => onDraft({ kind: "edit", eventId: ev.id, text: String(item.content.body) })}>✎</button>
          )}
          {canRedact && (
            <button class="icon" aria-label={t("message.delete")} onClick={() => confirm(t("message.deleteConfirm")) && run(client.redactEvent(room.roomId, ev.id))}>🗑</button>
          )}
        </div>
      )}
    </li>
  );
}

function Body({ client, item, sdk }: { client: MatrixClient; item: EventItem; sdk?: MatrixEvent }) {
  const { t } = useI18n();
  const ev = item.ev;
  if (ev.redacted) return <div class="body muted deleted">{t("message.deleted")}</div>;
  if (ev.failed || ev.type === EventType.RoomMessageEncrypted)
    return (
      <div class="body muted undecryptable" data-testid="undecryptable">
        🔒 {whyUndecryptable(t, sdk)}
      </div>
    );
  const c = item.content;
  if (["m.image", "m.file", "m.video", "m.audio"].includes(String(c.msgtype))) return <AttachmentBody client={client} content={c} />;
  const edited = item.edited && <span class="muted edited"> {t("message.edited")}</span>;
  if (c.format === "org.matrix.custom.html" && typeof c.formatted_body === "string") {
    const html = sanitizeHTML(c.formatted_body, { mxcToHttp: (u) => client.mxcUrlToHttp(u, 800, 600, "scale") });
    return (
      <div class={c.msgtype === "m.emote" ? "body emote" : "body"} data-testid="body">
        <span class="html" dangerouslySetInnerHTML={{ __html: html }} />
        {edited}
      </div>
    );
  }
  const body = typeof c.body === "string" ? (item.replyTo ? stripReplyFallback(c.body) : c.body) : null;
  if (body === null) return <div class="body muted">{t("timeline.unsupported", { type: ev.type })}</div>;
  return (
    <div class={c.msgtype === "m.emote" ? "body emote" : c.msgtype === "m.notice" ? "body notice-msg" : "body"} data-testid="body">
      {body}
      {edited}
    </div>
  );
}

function ReplyQuote({ room, target }: { room: Room; target?: MatrixEvent }) {
  const { t } = useI18n();
  if (!target) return <blockquote class="reply muted">{t("message.replyUnknown")}</blockquote>;
  const body = target.isRedacted() ? t("message.deleted") : target.isDecryptionFailure() ? t("timeline.encrypted") : String(target.getContent().body ?? "");
  return (
    <blockquote class="reply" data-testid="reply-quote">
      <strong>{nameOf(room, target.getSender() ?? "")}</strong> <span class="muted">{stripReplyFallback(body).slice(0, 200)}</span>
    </blockquote>
  );
}
