// Turns the raw events of a room timeline into what the timeline shows:
// day separators, edits applied (m.replace), reactions counted
// (m.annotation) and relation events folded into their targets. Pure logic
// over plain objects, so it is unit tested without the SDK.
import { CALL_NOTICES, callIdOf, CallSummary, callSummaries } from "./calls";

export interface Relation {
  rel_type?: string;
  event_id?: string;
  key?: string;
  /** is_falling_back: a thread reply's m.in_reply_to is only a fallback. */
  is_falling_back?: boolean;
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
      /** thread summarises the loaded replies of a thread rooted here. */
      thread?: ThreadSummary;
      /** call summarises the call a call notice (m.call.*) belongs to. */
      call?: CallSummary;
    };

export interface ThreadSummary {
  count: number;
  latestTs: number;
  latestSender: string;
}

/** THREAD is the thread relation (spec: "Threading", rel_type m.thread). */
export const THREAD = "m.thread";

/** threadOf: the root of the thread an event belongs to, if it is a thread reply. */
export function threadOf(e: RawEvent): string | undefined {
  return e.relation?.rel_type === THREAD && e.relation.event_id ? e.relation.event_id : undefined;
}

/** threadSummaries counts the loaded replies of each thread root. */
export function threadSummaries(events: RawEvent[]): Map<string, ThreadSummary> {
  const out = new Map<string, ThreadSummary>();
  for (const e of events) {
    const root = threadOf(e);
    if (!root || e.redacted || e.type === "m.reaction") continue;
    const s = out.get(root) ?? { count: 0, latestTs: 0, latestSender: "" };
    s.count++;
    if (e.ts >= s.latestTs) Object.assign(s, { latestTs: e.ts, latestSender: e.sender });
    out.set(root, s);
  }
  return out;
}

/** listThreads: the roots of the loaded threads, most recent activity first. */
export function listThreads(events: RawEvent[]): { root: string; summary: ThreadSummary }[] {
  return [...threadSummaries(events)].map(([root, summary]) => ({ root, summary })).sort((a, b) => b.summary.latestTs - a.summary.latestTs);
}

/**
 * firstUnreadIndex: the index in items of the first message after the
 * user's read marker that someone else sent, or -1 when everything loaded
 * is read or the marker is not loaded.
 */
export function firstUnreadIndex(events: RawEvent[], items: Item[], markerId: string | undefined, me: string): number {
  if (!markerId) return -1;
  const at = events.findIndex((e) => e.id === markerId);
  if (at < 0) return -1;
  const after = new Set(events.slice(at + 1).filter((e) => e.sender !== me).map((e) => e.id));
  return items.findIndex((it) => it.kind === "event" && after.has(it.ev.id) && it.ev.stateKey === undefined);
}

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

/**
 * buildItems lays out the main timeline, or with opts.thread one thread
 * (its root and replies). Thread replies stay out of the main timeline; their
 * roots carry a summary instead.
 */
export function buildItems(events: RawEvent[], me: string, opts: { thread?: string } = {}): Item[] {
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
  const threads = opts.thread ? new Map<string, ThreadSummary>() : threadSummaries(events);
  const calls = callSummaries(events);
  const inView = (e: RawEvent) => (opts.thread ? e.id === opts.thread || threadOf(e) === opts.thread : !threadOf(e));
  const items: Item[] = [];
  let lastDay = -1;
  let prev: RawEvent | null = null;
  for (const e of events) {
    if (!shown(e) || !inView(e)) continue;
    const day = startOfDay(e.ts);
    if (day !== lastDay) {
      items.push({ kind: "day", key: `day-${day}`, day });
      lastDay = day;
      prev = null;
    }
    const edit = edits.get(e.id);
    const newContent = edit?.content["m.new_content"];
    const content = !e.redacted && newContent && typeof newContent === "object" ? (newContent as Record<string, unknown>) : e.content;
    const rel = e.content["m.relates_to"] as { "m.in_reply_to"?: { event_id?: string }; is_falling_back?: boolean } | undefined;
    const inReply = threadOf(e) && rel?.is_falling_back ? undefined : rel?.["m.in_reply_to"]?.event_id;
    const isCall = CALL_NOTICES.has(e.type);
    const isMsg = e.type !== "m.room.member" && !e.stateKey && !isCall;
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
      thread: threads.get(e.id),
      ...(isCall ? { call: calls.get(callIdOf(e)) } : {}),
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
  return e.type === "m.room.message" || e.type === "m.room.encrypted" || e.type === "m.sticker" || CALL_NOTICES.has(e.type);
}

/** stripReplyFallback drops the "> <@user> quoted" lines of a reply's body. */
export function stripReplyFallback(body: string): string {
  const lines = body.split("\n");
  let i = 0;
  while (i < lines.length && lines[i].startsWith(">")) i++;
  if (i > 0 && lines[i] === "") i++;
  return i > 0 ? lines.slice(i).join("\n") : body;
}
