import { describe, expect, it } from "vitest";
import { aliasLocalpart, validAlias, validUserId } from "./ids";

describe("ids", () => {
  it.each([
    ["@bob:localhost", true],
    ["@bob:example.org:8448", true],
    ["bob", false],
    ["@bob", false],
    ["@b ob:hs", false],
    ["#room:hs", false],
  ])("validUserId(%s)", (s, ok) => expect(validUserId(s)).toBe(ok));
  it.each([
    ["#room:hs", true],
    ["#ro om:hs", false],
    ["room", false],
  ])("validAlias(%s)", (s, ok) => expect(validAlias(s)).toBe(ok));
  it.each([
    ["Café Talk!", "cafe-talk"],
    ["  --x--  ", "x"],
  ])("aliasLocalpart(%s)", (s, want) => expect(aliasLocalpart(s)).toBe(want));
});
