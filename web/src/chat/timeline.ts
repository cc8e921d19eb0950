// Turns the raw events of a room timeline into what the timeline shows:
// day separators, edits applied (m.replace), reactions counted
// (m.annotation) and relation events folded into their targets. Pure logic
// over plain objects, so it is unit tested without the SDK.

export interface Relation {
  rel_type?: string;
  event_id?: string;
  key?: string;
}

export interface RawEvent {
  id: string;
  type: string;
  sender: string;
  ts: number;
  content: Record<string, unknown>;
  relation?: Relation | null;
  redacted?: boolean;
  stateKey?: string;
  /** failed is set when an encrypted event could not be decrypted. */
  failed?: boolean;
  pending?: boolean;
  /** replaced: an edit was already applied to content by the SDK. */
  replaced?: boolean;
}

export interface Reaction {
  key: string;
  count: number;
  senders: string[];
  /** mine is the event id of my own reaction with this key, for undoing it. */
  mine?: string;
}

export type Item =
  | { kind: "day"; key: string; day: number }
  | {
      kind: "event";
      key: string;
      ev: RawEvent;
      content: Record<string, unknown>;
      edited: boolean;
      reactions: Reaction[];
      replyTo?: string;
      /** continued: same sender as the previous message within five minutes. */
      continued: boolean;
    };

const HIDDEN = new Set(["m.reaction", "m.room.redaction"]);
const STATE_SHOWN = new Set([
  "m.room.create",
  "m.room.member",
  "m.room.name",
  "m.room.topic",
  "m.room.encryption",
  "m.room.avatar",
  "m.room.join_rules",
  "m.room.history_visibility",
]);

/** startOfDay is local midnight for a timestamp. */
export function startOfDay(ts: number): number {
  const d = new Date(ts);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export function buildItems(events: RawEvent[], me: string): Item[] {
  const byId = new Map(events.map((e) => [e.id, e]));
  const edits = new Map<string, RawEvent>();
  const reactions = new Map<string, Map<string, Reaction>>();
  for (const e of events) {
    const rel = e.relation;
    if (!rel?.event_id || e.redacted) continue;
    const target = byId.get(rel.event_id);
    if (rel.rel_type === "m.replace" && e.type === "m.room.message") {
      // Only the original sender may edit (spec: "Event replacements", validity).
      if (target && target.sender !== e.sender) continue;
      const prev = edits.get(rel.event_id);
      if (!prev || prev.ts <= e.ts) edits.set(rel.event_id, e);
    } else if (rel.rel_type === "m.annotation" && e.type === "m.reaction" && rel.key) {
      const forTarget = reactions.get(rel.event_id) ?? new Map<string, Reaction>();
      reactions.set(rel.event_id, forTarget);
      const r = forTarget.get(rel.key) ?? { key: rel.key, count: 0, senders: [] };
      if (r.senders.includes(e.sender)) continue;
      r.count++;
      r.senders.push(e.sender);
      if (e.sender === me) r.mine = e.id;
      forTarget.set(rel.key, r);
    }
  }
  const items: Item[] = [];
  let lastDay = -1;
  let prev: RawEvent | null = null;
  for (const e of events) {
    if (!shown(e)) continue;
    const day = startOfDay(e.ts);
    if (day !== lastDay) {
      items.push({ kind: "day", key: `day-${day}`, day });
      lastDay = day;
      prev = null;
    }
    const edit = edits.get(e.id);
    const newContent = edit?.content["m.new_content"];
    const content = !e.redacted && newContent && typeof newContent === "object" ? (newContent as Record<string, unknown>) : e.content;
    const inReply = (e.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string } } | undefined)?.["m.in_reply_to"]?.event_id;
    const isMsg = e.type !== "m.room.member" && !e.stateKey;
    const continued = !!prev && isMsg && prev.sender === e.sender && e.ts - prev.ts < 5 * 60_000 && !inReply;
    items.push({
      kind: "event",
      key: e.id,
      ev: e,
      content,
      edited: (!!edit || !!e.replaced) && !e.redacted,
      reactions: [...(reactions.get(e.id)?.values() ?? [])],
      replyTo: typeof inReply === "string" ? inReply : undefined,
      continued,
    });
    prev = isMsg ? e : null;
  }
  return items;
}

function shown(e: RawEvent): boolean {
  if (HIDDEN.has(e.type)) return false;
  if (e.stateKey !== undefined) return STATE_SHOWN.has(e.type);
  // Edits fold into the event they replace.
  if (e.relation?.rel_type === "m.replace") return false;
  return e.type === "m.room.message" || e.type === "m.room.encrypted" || e.type === "m.sticker";
}

/** stripReplyFallback drops the "> <@user> quoted" lines of a reply's body. */
export function stripReplyFallback(body: string): string {
  const lines = body.split("\n");
  let i = 0;
  while (i < lines.length && lines[i].startsWith(">")) i++;
  if (i > 0 && lines[i] === "") i++;
  return i > 0 ? lines.slice(i).join("\n") : body;
}
