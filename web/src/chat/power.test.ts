import { describe, expect, it } from "vitest";
import { creatorHasFullPower } from "./power";

describe("creatorHasFullPower", () => {
  it.each([
    ["1", false],
    ["10", false],
    ["11", false],
    ["12", true],
    ["13", true],
    ["org.example.custom", false],
  ])("room version %s → %s", (v, want) => expect(creatorHasFullPower(v)).toBe(want));
});

import type { Room } from "matrix-js-sdk";
import { canModerate, isPrivilegedCreator, outranks } from "./power";

/** fakeRoom: just enough of Room for the power checks. */
function fakeRoom(version: string, creator: string, extra: string[], levels: Record<string, number>, redact = 50): Room {
  const create = { getSender: () => creator, getContent: () => ({ additional_creators: extra }) };
  return {
    getVersion: () => version,
    getMember: (id: string) => ({ userId: id, powerLevel: levels[id] ?? 0 }),
    currentState: {
      getStateEvents: (type: string) => (type === "m.room.create" ? create : null),
      hasSufficientPowerLevelFor: (_a: string, pl: number) => pl >= redact,
    },
  } as unknown as Room;
}

describe("v12 creators", () => {
  const cases: { name: string; room: Room; user: string; creator: boolean; redact: boolean }[] = [
    { name: "v12 creator not in power_levels", room: fakeRoom("12", "@a:x", [], {}), user: "@a:x", creator: true, redact: true },
    { name: "v12 additional creator", room: fakeRoom("12", "@a:x", ["@b:x"], {}), user: "@b:x", creator: true, redact: true },
    { name: "v12 plain member", room: fakeRoom("12", "@a:x", [], {}), user: "@c:x", creator: false, redact: false },
    { name: "v12 moderator by power_levels", room: fakeRoom("12", "@a:x", [], { "@c:x": 50 }), user: "@c:x", creator: false, redact: true },
    { name: "v11 creator uses power_levels only", room: fakeRoom("11", "@a:x", [], {}), user: "@a:x", creator: false, redact: false },
  ];
  it.each(cases)("$name", ({ room, user, creator, redact }) => {
    expect(isPrivilegedCreator(room, user)).toBe(creator);
    expect(canModerate(room, user, "redact")).toBe(redact);
  });
  it("nobody outranks a v12 creator; a creator outranks a moderator", () => {
    const room = fakeRoom("12", "@a:x", [], { "@m:x": 100 });
    expect(outranks(room, "@m:x", "@a:x")).toBe(false);
    expect(outranks(room, "@a:x", "@m:x")).toBe(true);
  });
});
