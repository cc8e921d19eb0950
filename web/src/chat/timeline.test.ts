import { describe, expect, it } from "vitest";
import { buildItems, RawEvent, stripReplyFallback } from "./timeline";

const day = (d: number, h = 12) => new Date(2025, 0, d, h).getTime();
const msg = (id: string, sender: string, ts: number, extra: Partial<RawEvent> = {}): RawEvent => ({
  id,
  type: "m.room.message",
  sender,
  ts,
  content: { msgtype: "m.text", body: id },
  ...extra,
});

describe("buildItems", () => {
  it("inserts day separators and groups a sender's messages", () => {
    const items = buildItems([msg("a", "@a:hs", day(1)), msg("b", "@a:hs", day(1) + 1000), msg("c", "@b:hs", day(2))], "@a:hs");
    expect(items.map((i) => (i.kind === "day" ? "day" : `${i.key}${i.continued ? "+" : ""}`))).toEqual(["day", "a", "b+", "day", "c"]);
  });
  it("applies the latest edit by the original sender only", () => {
    const edit = (id: string, sender: string, ts: number, body: string) =>
      msg(id, sender, ts, { content: { body: "* " + body, "m.new_content": { msgtype: "m.text", body } }, relation: { rel_type: "m.replace", event_id: "a" } });
    const items = buildItems([msg("a", "@a:hs", day(1)), edit("e1", "@a:hs", day(1) + 1, "v1"), edit("e2", "@a:hs", day(1) + 2, "v2"), edit("x", "@evil:hs", day(1) + 3, "pwn")], "@a:hs");
    const ev = items.filter((i) => i.kind === "event");
    expect(ev).toHaveLength(1);
    expect(ev[0].kind === "event" && [ev[0].content.body, ev[0].edited]).toEqual(["v2", true]);
  });
  it("counts reactions once per sender and remembers mine", () => {
    const react = (id: string, sender: string, key: string, redacted = false): RawEvent => ({
      id, type: "m.reaction", sender, ts: day(1), content: {}, relation: { rel_type: "m.annotation", event_id: "a", key }, redacted,
    });
    const items = buildItems([msg("a", "@a:hs", day(1)), react("r1", "@a:hs", "👍"), react("r2", "@b:hs", "👍"), react("r3", "@b:hs", "👍"), react("r4", "@b:hs", "🎉", true)], "@a:hs");
    const ev = items.find((i) => i.kind === "event");
    expect(ev?.kind === "event" && ev.reactions).toEqual([{ key: "👍", count: 2, senders: ["@a:hs", "@b:hs"], mine: "r1" }]);
  });
  it("keeps replies' targets and hides redactions", () => {
    const reply = msg("r", "@b:hs", day(1), { content: { body: "> <@a:hs> a\n\nyes", "m.relates_to": { "m.in_reply_to": { event_id: "a" } } } });
    const items = buildItems([msg("a", "@a:hs", day(1)), { id: "x", type: "m.room.redaction", sender: "@a:hs", ts: day(1), content: {} }, reply], "@a:hs");
    const last = items[items.length - 1];
    expect(items).toHaveLength(3);
    expect(last.kind === "event" && last.replyTo).toBe("a");
  });
});

describe("stripReplyFallback", () => {
  it.each([
    ["> <@a:hs> hi\n> there\n\nanswer", "answer"],
    ["no fallback", "no fallback"],
    ["> quote only", ""],
  ])("%j", (body, want) => expect(stripReplyFallback(body)).toBe(want));
});

import { firstUnreadIndex, listThreads } from "./timeline";

describe("threads", () => {
  const ev = (id: string, sender: string, ts: number, extra: Partial<RawEvent> = {}): RawEvent => ({
    id, type: "m.room.message", sender, ts, content: { msgtype: "m.text", body: id }, ...extra,
  });
  const reply = (id: string, root: string, ts: number, sender = "@b:x"): RawEvent =>
    ev(id, sender, ts, {
      relation: { rel_type: "m.thread", event_id: root, is_falling_back: true },
      content: { msgtype: "m.text", body: id, "m.relates_to": { rel_type: "m.thread", event_id: root, is_falling_back: true, "m.in_reply_to": { event_id: root } } },
    });
  const events = [ev("$root", "@a:x", 1000), ev("$other", "@a:x", 2000), reply("$r1", "$root", 3000), reply("$r2", "$root", 4000, "@c:x")];

  it("keeps thread replies out of the main timeline and summarises them on the root", () => {
    const items = buildItems(events, "@a:x").filter((i) => i.kind === "event");
    expect(items.map((i) => i.kind === "event" && i.ev.id)).toEqual(["$root", "$other"]);
    const root = items[0];
    expect(root.kind === "event" && root.thread).toEqual({ count: 2, latestTs: 4000, latestSender: "@c:x" });
  });

  it("shows a thread's root and replies, without fallback reply quotes", () => {
    const items = buildItems(events, "@a:x", { thread: "$root" }).filter((i) => i.kind === "event");
    expect(items.map((i) => i.kind === "event" && i.ev.id)).toEqual(["$root", "$r1", "$r2"]);
    expect(items.every((i) => i.kind === "event" && i.replyTo === undefined)).toBe(true);
  });

  it("lists threads by latest activity", () => {
    const more = [...events, ev("$root2", "@a:x", 5000), reply("$r3", "$root2", 6000)];
    expect(listThreads(more).map((t) => t.root)).toEqual(["$root2", "$root"]);
  });
});

describe("firstUnreadIndex", () => {
  const ev = (id: string, sender: string, ts: number): RawEvent => ({ id, type: "m.room.message", sender, ts, content: { msgtype: "m.text", body: id } });
  const events = [ev("$1", "@b:x", 1), ev("$2", "@a:x", 2), ev("$3", "@a:x", 3), ev("$4", "@b:x", 4)];
  const items = buildItems(events, "@a:x");
  const idOf = (i: number) => (items[i]?.kind === "event" ? (items[i] as { ev: RawEvent }).ev.id : null);
  it.each([
    ["marker on the first message: the next from someone else", "$1", "$4"],
    ["marker on the newest: nothing unread", "$4", null],
    ["marker not loaded", "$zz", null],
    ["no marker", undefined, null],
  ])("%s", (_name, marker, want) => {
    const i = firstUnreadIndex(events, items, marker, "@a:x");
    expect(i < 0 ? null : idOf(i)).toBe(want);
  });
});
