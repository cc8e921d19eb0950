import { describe, expect, it } from "vitest";
import { MatrixError } from "./api";
import { errorMessage } from "./errors";
import { translator } from "./i18n";
import {
  jwtLogin, JWT, looksLikeJWT, parseLoginCallback, planLogin, rememberSSOBase, ssoRedirectURL, ssoReturnURL,
  takeSSOBase, tokenLogin,
} from "./login";

const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbmEifQ.c2lnbmF0dXJl";

describe("planLogin", () => {
  it.each([
    ["password only", [{ type: "m.login.password" }], { password: true, jwt: false, sso: null }],
    ["kabar with JWT", [{ type: "m.login.password" }, { type: "m.login.token" }, { type: JWT }], { password: true, jwt: true, sso: null }],
    ["SSO without providers", [{ type: "m.login.sso" }, { type: "m.login.token" }], { password: false, jwt: false, sso: [] }],
    [
      "SSO with providers",
      [{ type: "m.login.sso", identity_providers: [{ id: "oidc-github", name: "GitHub", brand: "github" }, { id: "saml", name: "Campus" }] }],
      { password: false, jwt: false, sso: [{ id: "oidc-github", name: "GitHub", brand: "github" }, { id: "saml", name: "Campus" }] },
    ],
    [
      "bad providers dropped",
      [{ type: "m.login.sso", identity_providers: [{ id: "../x", name: "Evil" }, { id: "ok", name: "" }, null, { name: "no id" }, { id: "g", name: "G" }] }],
      { password: false, jwt: false, sso: [{ id: "g", name: "G" }] },
    ],
    ["junk flows", [null, 3, { type: 7 }, { type: "m.login.password" }], { password: true, jwt: false, sso: null }],
    ["flows not a list", { type: "m.login.password" }, { password: false, jwt: false, sso: null }],
  ])("%s", (_n, flows, want) => {
    expect(planLogin(flows)).toEqual(want);
  });
});

describe("SSO redirect", () => {
  it.each([
    [undefined, "https://hs.example/_matrix/client/v3/login/sso/redirect?redirectUrl=https%3A%2F%2Fkabar.example%2F"],
    ["oidc-github", "https://hs.example/_matrix/client/v3/login/sso/redirect/oidc-github?redirectUrl=https%3A%2F%2Fkabar.example%2F"],
  ])("idp %s", (idp, want) => {
    expect(ssoRedirectURL("https://hs.example/", ssoReturnURL("https://kabar.example/?x=1#register"), idp)).toBe(want);
  });

  it("remembers the homeserver across the round trip, once", () => {
    const m = new Map<string, string>();
    const store = { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k) };
    rememberSSOBase(store, "https://hs.example");
    expect(takeSSOBase(store, "https://here")).toBe("https://hs.example");
    expect(takeSSOBase(store, "https://here")).toBe("https://here");
    store.setItem("kabar.sso.base", "javascript:alert(1)");
    expect(takeSSOBase(store, "https://here")).toBe("https://here");
  });
});

describe("parseLoginCallback", () => {
  it.each([
    ["SSO return", "https://k.example/?loginToken=abc123", { kind: "sso", loginToken: "abc123", cleanURL: "https://k.example/" }],
    ["SSO keeps other params", "https://k.example/app?lang=id&loginToken=t#x", { kind: "sso", loginToken: "t", cleanURL: "https://k.example/app?lang=id#x" }],
    ["JWT in fragment", `https://k.example/#/login?jwt=${jwt}`, { kind: "jwt", token: jwt, cleanURL: "https://k.example/" }],
    ["JWT, no slash", `https://k.example/#login?jwt=${jwt}&x=1`, { kind: "jwt", token: jwt, cleanURL: "https://k.example/" }],
    ["JWT not a JWT", "https://k.example/#/login?jwt=hello", null],
    ["empty login token", "https://k.example/?loginToken=", null],
    ["register hash", "https://k.example/#register", null],
    ["plain page", "https://k.example/", null],
    ["not a URL", "::", null],
  ])("%s", (_n, href, want) => {
    expect(parseLoginCallback(href)).toEqual(want);
  });

  it.each([
    [jwt, true],
    [` ${jwt}\n`, true],
    ["a.b", false],
    ["a.b.c.d", false],
    ["has space.b.c", false],
    ["", false],
  ])("looksLikeJWT(%j) = %s", (s, want) => {
    expect(looksLikeJWT(s)).toBe(want);
  });
});

/** One canned answer; the request sent is kept. */
function answer(status: number, body: unknown) {
  const sent: { url: string; body: Record<string, unknown> }[] = [];
  const fn = (async (url: RequestInfo | URL, init?: RequestInit) => {
    sent.push({ url: String(url), body: JSON.parse(String(init?.body ?? "{}")) });
    return new Response(JSON.stringify(body), { status });
  }) as typeof fetch;
  return { fn, sent };
}

describe("token logins", () => {
  const ok = { user_id: "@ana:hs.example", access_token: "at", device_id: "D" };

  it("sends org.matrix.login.jwt with the token", async () => {
    const { fn, sent } = answer(200, ok);
    const s = await jwtLogin(fn, "https://hs.example", ` ${jwt} `, "Kabar Web");
    expect(s).toEqual({ homeserverUrl: "https://hs.example", userId: "@ana:hs.example", accessToken: "at", deviceId: "D" });
    expect(sent[0].url).toBe("https://hs.example/_matrix/client/v3/login");
    expect(sent[0].body).toEqual({ type: JWT, token: jwt, initial_device_display_name: "Kabar Web" });
  });

  it("sends m.login.token after SSO", async () => {
    const { fn, sent } = answer(200, ok);
    await tokenLogin(fn, "https://hs.example", "lt", "Kabar Web");
    expect(sent[0].body).toEqual({ type: "m.login.token", token: "lt", initial_device_display_name: "Kabar Web" });
  });

  it.each([
    ["jwt", 403, "M_FORBIDDEN", "The token was refused: expired or not for this server."],
    ["jwt", 400, "M_UNKNOWN", "This server doesn't accept organization tokens."],
    ["sso", 403, "M_FORBIDDEN", "The single sign-on link was refused: it expired or was already used. Try again."],
    ["jwt", 403, "M_USER_DEACTIVATED", "This account has been deactivated."],
  ] as const)("%s %d %s reads clearly", async (ctx, status, errcode, want) => {
    const { fn } = answer(status, { errcode, error: "x" });
    const err = await (ctx === "jwt" ? jwtLogin(fn, "https://h", jwt, "d") : tokenLogin(fn, "https://h", "lt", "d")).catch((e) => e);
    expect(err).toBeInstanceOf(MatrixError);
    expect(errorMessage(translator("en"), err, ctx)).toBe(want);
  });
});
