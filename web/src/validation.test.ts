import { describe, expect, it } from "vitest";
import { hasErrors, validateLogin, validateRegister } from "./validation";

const ok = { username: "alice", password: "correct horse", confirm: "correct horse", token: "", needsToken: false };

describe("validateRegister", () => {
  it.each([
    ["valid", {}, {}],
    ["empty username", { username: " " }, { username: "validate.usernameRequired" }],
    ["uppercase", { username: "Alice" }, { username: "validate.usernameChars" }],
    ["space", { username: "al ice" }, { username: "validate.usernameChars" }],
    ["colon", { username: "alice:x" }, { username: "validate.usernameChars" }],
    ["allowed punctuation", { username: "a.b_c=d-e/f+g" }, {}],
    ["too long", { username: "a".repeat(201) }, { username: "validate.usernameLong" }],
    ["no password", { password: "", confirm: "" }, { password: "validate.passwordRequired" }],
    ["short password", { password: "short", confirm: "short" }, { password: "validate.passwordShort" }],
    ["mismatch", { confirm: "other" }, { confirm: "validate.passwordMismatch" }],
    ["token needed", { needsToken: true }, { token: "validate.tokenRequired" }],
    ["token given", { needsToken: true, token: "abc" }, {}],
  ])("%s", (_name, patch, want) => {
    expect(validateRegister({ ...ok, ...patch })).toEqual(want);
  });
});

describe("validateLogin", () => {
  it.each([
    ["alice", "pw", false],
    ["@alice:example.org", "pw", false],
    ["", "pw", true],
    ["alice", "", true],
  ])("%s / %s", (u, p, bad) => {
    expect(hasErrors(validateLogin(u, p))).toBe(bad);
  });
});
