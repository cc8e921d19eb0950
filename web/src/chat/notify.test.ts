import { describe, expect, it } from "vitest";
import { Candidate, shouldNotify } from "./notify";

const base: Candidate = { type: "m.room.message", sender: "@bob:x", body: "hello", memberCount: 5, focused: false };

describe("shouldNotify", () => {
  it.each<[string, Partial<Candidate>, boolean]>([
    ["a DM message", { memberCount: 2 }, true],
    ["a group message without mention", {}, false],
    ["a mention by m.mentions", { mentions: { user_ids: ["@alice:x"] } }, true],
    ["m.mentions naming someone else wins over the body", { body: "alice!", mentions: { user_ids: ["@carol:x"] } }, false],
    ["a mention by user ID in the body", { body: "ping @alice:x" }, true],
    ["a mention by display name", { body: "Hi Alice Example, look" }, true],
    ["a name inside another word", { body: "malice example-free" }, false],
    ["my own message", { sender: "@alice:x", memberCount: 2 }, false],
    ["the room I am looking at", { memberCount: 2, focused: true }, false],
    ["a reaction", { type: "m.reaction", memberCount: 2 }, false],
    ["no body", { body: undefined, memberCount: 2 }, false],
  ])("%s", (_n, patch, want) => {
    expect(shouldNotify({ ...base, ...patch }, "@alice:x", "Alice Example")).toBe(want);
  });
});
