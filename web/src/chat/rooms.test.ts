import { describe, expect, it } from "vitest";
import { initials, sortRooms } from "./rooms";

const r = (name: string, lastTs: number, invite = false) => ({ roomId: `!${name}:hs`, name, lastTs, unread: 0, highlights: 0, invite });

describe("rooms", () => {
  it("puts invites first, then the most recent", () => {
    const got = sortRooms([r("old", 1), r("new", 9), r("invite", 0, true), r("b", 5), r("a", 5)]).map((x) => x.name);
    expect(got).toEqual(["invite", "new", "a", "b", "old"]);
  });
  it.each([
    ["#general:hs", "G"],
    ["@bob:hs", "B"],
    ["ñandu", "Ñ"],
    ["😀 fun", "😀"],
    ["", "?"],
  ])("initials(%s)", (name, want) => expect(initials(name)).toBe(want));
});
