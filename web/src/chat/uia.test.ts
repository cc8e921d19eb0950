import { describe, expect, it } from "vitest";
import { PasswordAuth, UnsupportedUIA, withPassword } from "./uia";

const uia = (flows: string[][], session = "S1") => Object.assign(new Error("401"), { httpStatus: 401, data: { session, flows: flows.map((stages) => ({ stages })) } });

describe("withPassword", () => {
  it("passes straight through when the server needs no UIA", async () => {
    const calls: (PasswordAuth | undefined)[] = [];
    expect(await withPassword("@a:x", "pw", async (a) => (calls.push(a), "ok"))).toBe("ok");
    expect(calls).toEqual([undefined]);
  });

  it("retries with the password and the session", async () => {
    const calls: (PasswordAuth | undefined)[] = [];
    const r = await withPassword("@a:x", "pw", async (a) => {
      calls.push(a);
      if (!a) throw uia([["m.login.password"]]);
      return "done";
    });
    expect(r).toBe("done");
    expect(calls[1]).toEqual({ type: "m.login.password", identifier: { type: "m.id.user", user: "@a:x" }, password: "pw", session: "S1" });
  });

  it.each([
    ["a plain 403", Object.assign(new Error("403"), { httpStatus: 403, data: {} }), Error],
    ["a 401 without flows", Object.assign(new Error("401"), { httpStatus: 401, data: { errcode: "M_UNKNOWN_TOKEN" } }), Error],
    ["flows without password", uia([["m.login.sso"], ["m.login.password", "m.login.email.identity"]]), UnsupportedUIA],
  ])("rethrows %s", async (_n, err, kind) => {
    await expect(withPassword("@a:x", "pw", async () => Promise.reject(err))).rejects.toBeInstanceOf(kind);
  });

  it("surfaces a wrong password from the second call", async () => {
    const wrong = Object.assign(new Error("wrong"), { httpStatus: 401, data: { errcode: "M_FORBIDDEN", flows: [{ stages: ["m.login.password"] }] } });
    await expect(withPassword("@a:x", "bad", async (a) => Promise.reject(a ? wrong : uia([["m.login.password"]])))).rejects.toBe(wrong);
  });
});
