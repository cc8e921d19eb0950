import { describe, expect, it } from "vitest";
import { MatrixError } from "./api";
import { errorMessage } from "./errors";
import { chooseFlow, DUMMY, planRegistration, register, TOKEN } from "./flows";
import { translator } from "./i18n";

describe("chooseFlow", () => {
  const email = "m.login.email.identity";
  it.each([
    ["dummy only", [[DUMMY]], false, [DUMMY]],
    ["token only, no token", [[TOKEN]], false, [TOKEN]],
    ["prefers no-token flow without a token", [[TOKEN], [DUMMY]], false, [DUMMY]],
    ["prefers token flow with a token", [[DUMMY], [TOKEN]], true, [TOKEN]],
    ["skips unsupported", [[email], [TOKEN, DUMMY]], false, [TOKEN, DUMMY]],
    ["nothing doable", [[email], ["m.login.recaptcha"]], false, null],
    ["no flows", [], false, null],
  ])("%s", (_n, flows, haveToken, want) => {
    const got = chooseFlow((flows as string[][]).map((stages) => ({ stages })), haveToken);
    expect(got ? got.stages : null).toEqual(want);
  });
});

describe("planRegistration", () => {
  it.each([
    ["open", 401, { flows: [{ stages: [DUMMY] }] }, { kind: "ok", needsToken: false }],
    ["token", 401, { flows: [{ stages: [TOKEN] }] }, { kind: "ok", needsToken: true }],
    ["either", 401, { flows: [{ stages: [TOKEN] }, { stages: [DUMMY] }] }, { kind: "ok", needsToken: false }],
    ["disabled", 403, { errcode: "M_FORBIDDEN" }, { kind: "closed" }],
    ["no endpoint", 404, { errcode: "M_UNRECOGNIZED" }, { kind: "closed" }],
    ["email only", 401, { flows: [{ stages: ["m.login.email.identity"] }] }, { kind: "unsupported", stages: ["m.login.email.identity"] }],
  ])("%s", (_n, status, body, want) => {
    expect(planRegistration(status, body)).toEqual(want);
  });
});

/** A scripted server: each call gets the next answer; bodies sent are kept. */
function scripted(answers: [number, unknown][]) {
  const sent: Record<string, unknown>[] = [];
  const fn = (async (_url: RequestInfo | URL, init?: RequestInit) => {
    sent.push(JSON.parse(String(init?.body ?? "{}")));
    const [status, body] = answers.shift()!;
    return new Response(JSON.stringify(body), { status });
  }) as typeof fetch;
  return { fn, sent };
}

const input = { username: "alice", password: "pw123456", token: "", deviceName: "test" };
const done = { user_id: "@alice:hs", access_token: "tok", device_id: "DEV" };

describe("register", () => {
  it("completes m.login.dummy", async () => {
    const { fn, sent } = scripted([
      [401, { session: "s1", flows: [{ stages: [DUMMY] }], params: {} }],
      [200, done],
    ]);
    const s = await register(fn, "http://hs", input);
    expect(s).toEqual({ homeserverUrl: "http://hs", userId: "@alice:hs", accessToken: "tok", deviceId: "DEV" });
    expect(sent[1].auth).toEqual({ type: DUMMY, session: "s1" });
    expect(sent[1].username).toBe("alice");
  });

  it("sends the registration token, then dummy", async () => {
    const { fn, sent } = scripted([
      [401, { session: "s", flows: [{ stages: [TOKEN, DUMMY] }] }],
      [401, { session: "s", flows: [{ stages: [TOKEN, DUMMY] }], completed: [TOKEN] }],
      [200, done],
    ]);
    await register(fn, "http://hs", { ...input, token: " T0K " });
    expect(sent[1].auth).toEqual({ type: TOKEN, session: "s", token: "T0K" });
    expect(sent[2].auth).toEqual({ type: DUMMY, session: "s" });
  });

  it("reports a refused token", async () => {
    const { fn } = scripted([
      [401, { session: "s", flows: [{ stages: [TOKEN] }] }],
      [401, { session: "s", flows: [{ stages: [TOKEN] }], errcode: "M_UNAUTHORIZED", error: "bad token" }],
    ]);
    const err = await register(fn, "http://hs", { ...input, token: "nope" }).catch((e) => e);
    expect(err).toBeInstanceOf(MatrixError);
    expect(errorMessage(translator("en"), err, "register")).toBe("That registration token isn't valid.");
  });

  it("reports a taken username", async () => {
    const { fn } = scripted([[400, { errcode: "M_USER_IN_USE", error: "taken" }]]);
    const err = await register(fn, "http://hs", input).catch((e) => e);
    expect(errorMessage(translator("id"), err, "register")).toBe("Nama pengguna itu sudah dipakai. Coba yang lain.");
  });

  it("refuses flows it cannot do", async () => {
    const { fn } = scripted([[401, { session: "s", flows: [{ stages: ["m.login.recaptcha"] }] }]]);
    const err = await register(fn, "http://hs", input).catch((e) => e);
    expect(errorMessage(translator("en"), err, "register")).toContain("m.login.recaptcha");
  });
});

describe("errorMessage", () => {
  const t = translator("en");
  it.each([
    [new MatrixError(403, "M_FORBIDDEN", "x"), "login", "Wrong username or password."],
    [new MatrixError(403, "M_FORBIDDEN", "x"), "general", "The server refused this request."],
    [new MatrixError(429, "M_LIMIT_EXCEEDED", "", { retry_after_ms: 2500 }), "login", "Too many attempts. Try again in 3 s."],
    [new MatrixError(400, "M_SOMETHING_NEW", "server words"), "general", "Something went wrong (M_SOMETHING_NEW: server words)."],
    [{ errcode: "M_UNKNOWN_TOKEN" }, "general", "Your session has ended. Please sign in again."],
  ] as const)("%o in %s", (err, ctx, want) => {
    expect(errorMessage(t, err, ctx)).toBe(want);
  });
});
