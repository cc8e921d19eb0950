// Sign-in methods beyond the password: single sign-on (client-server-api
// "Login" > "Single Sign-On", m.login.sso and m.login.token) and the
// org.matrix.login.jwt extension that Kabar and Synapse offer.
import { clientURL, Fetch, requestJSON, toError } from "./api";
import { Session, sessionFrom, LoginBody } from "./flows";

export const SSO = "m.login.sso";
export const LOGIN_TOKEN = "m.login.token";
export const JWT = "org.matrix.login.jwt";

/** An identity provider offered inside the m.login.sso flow. */
export interface IdentityProvider {
  id: string;
  name: string;
  brand?: string;
}

/** LoginPlan says which sign-in methods the sign-in screen shows. */
export interface LoginPlan {
  password: boolean;
  jwt: boolean;
  /** null: no SSO; []: SSO without named providers (one generic button). */
  sso: IdentityProvider[] | null;
}

// The spec limits idp ids to [A-Za-z0-9._~-] (1-255 chars); anything else is
// ignored rather than put into a URL path.
const IDP_ID = /^[A-Za-z0-9._~-]{1,255}$/;

/** planLogin reads the flows of GET /login (login.yaml) into a LoginPlan. */
export function planLogin(flows: unknown): LoginPlan {
  const list = (Array.isArray(flows) ? flows : []).filter(
    (f): f is Record<string, unknown> => !!f && typeof f === "object" && typeof (f as { type?: unknown }).type === "string",
  );
  const has = (t: string) => list.some((f) => f.type === t);
  // m.login.sso finishes with an m.login.token login, which a server offering
  // SSO must accept, so the SSO flow alone decides.
  const ssoFlow = list.find((f) => f.type === SSO);
  let sso: IdentityProvider[] | null = null;
  if (ssoFlow) {
    const idps = Array.isArray(ssoFlow.identity_providers) ? ssoFlow.identity_providers : [];
    sso = idps
      .filter((p): p is Record<string, unknown> => !!p && typeof p === "object")
      .filter((p) => typeof p.id === "string" && IDP_ID.test(p.id) && typeof p.name === "string" && p.name !== "")
      .map((p) => ({ id: p.id as string, name: p.name as string, ...(typeof p.brand === "string" ? { brand: p.brand } : {}) }));
  }
  return { password: has("m.login.password"), jwt: has(JWT), sso };
}

/** loginPlan asks GET /login what the server offers. */
export async function loginPlan(fetchFn: Fetch, base: string): Promise<LoginPlan> {
  const res = await requestJSON<{ flows?: unknown }>(fetchFn, clientURL(base, "/v3/login"));
  if (res.status !== 200) throw toError(res);
  return planLogin(res.body.flows);
}

/**
 * ssoRedirectURL is where the browser goes to start SSO: GET
 * /login/sso/redirect[/{idpId}]?redirectUrl=... (sso_login_redirect.yaml).
 */
export function ssoRedirectURL(base: string, redirectUrl: string, idpId?: string): string {
  const path = idpId ? `/v3/login/sso/redirect/${encodeURIComponent(idpId)}` : "/v3/login/sso/redirect";
  return `${clientURL(base, path)}?redirectUrl=${encodeURIComponent(redirectUrl)}`;
}

/** ssoReturnURL is this page without query or fragment: the server appends ?loginToken=. */
export function ssoReturnURL(href: string): string {
  const u = new URL(href);
  return u.origin + u.pathname;
}

/** What the page URL carries after an identity provider sent the user back. */
export type LoginCallback =
  | { kind: "sso"; loginToken: string; cleanURL: string }
  | { kind: "jwt"; token: string; cleanURL: string };

// A JWT is three base64url parts; checking the shape keeps junk out of POST /login.
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * parseLoginCallback finds a login token in the page URL: ?loginToken= after
 * SSO, or #/login?jwt= from an identity provider that mints JWTs. cleanURL is
 * the same page without them, to replace the history entry so the secret does
 * not stay in the address bar or history.
 */
export function parseLoginCallback(href: string): LoginCallback | null {
  let u: URL;
  try {
    u = new URL(href);
  } catch {
    return null;
  }
  const loginToken = u.searchParams.get("loginToken");
  if (loginToken) {
    u.searchParams.delete("loginToken");
    return { kind: "sso", loginToken, cleanURL: u.origin + u.pathname + u.search + u.hash };
  }
  const m = /^#\/?login\?(.*)$/.exec(u.hash);
  const token = m ? new URLSearchParams(m[1]).get("jwt")?.trim() : undefined;
  if (token && JWT_SHAPE.test(token)) return { kind: "jwt", token, cleanURL: u.origin + u.pathname + u.search };
  return null;
}

/** looksLikeJWT checks a pasted token before sending it. */
export function looksLikeJWT(token: string): boolean {
  return JWT_SHAPE.test(token.trim());
}

async function tokenTypeLogin(fetchFn: Fetch, base: string, type: string, token: string, deviceName: string): Promise<Session> {
  const res = await requestJSON<LoginBody>(fetchFn, clientURL(base, "/v3/login"), {
    method: "POST",
    body: { type, token: token.trim(), initial_device_display_name: deviceName },
  });
  if (res.status !== 200) throw toError(res);
  return sessionFrom(base, res.body);
}

/** jwtLogin: POST /login with {"type": "org.matrix.login.jwt", "token": ...}. */
export function jwtLogin(fetchFn: Fetch, base: string, token: string, deviceName: string): Promise<Session> {
  return tokenTypeLogin(fetchFn, base, JWT, token, deviceName);
}

/** tokenLogin: POST /login with m.login.token, finishing SSO. */
export function tokenLogin(fetchFn: Fetch, base: string, loginToken: string, deviceName: string): Promise<Session> {
  return tokenTypeLogin(fetchFn, base, LOGIN_TOKEN, loginToken, deviceName);
}

// The homeserver an SSO round trip started against, kept across the redirect
// (sessionStorage: this tab only, gone when it closes).
const SSO_BASE_KEY = "kabar.sso.base";

export interface SessionStore {
  getItem(k: string): string | null;
  setItem(k: string, v: string): void;
  removeItem(k: string): void;
}

export function rememberSSOBase(store: SessionStore, base: string): void {
  store.setItem(SSO_BASE_KEY, base);
}

/** takeSSOBase returns (and forgets) the remembered homeserver, or fallback. */
export function takeSSOBase(store: SessionStore, fallback: string): string {
  const v = store.getItem(SSO_BASE_KEY);
  store.removeItem(SSO_BASE_KEY);
  return v && /^https?:\/\//.test(v) ? v : fallback;
}
