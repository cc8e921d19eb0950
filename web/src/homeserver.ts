// Homeserver address handling and server discovery
// (client-server-api "Server Discovery" / "Well-known URIs").
import { Fetch, NetworkError, requestJSON } from "./api";

/** What the user typed, understood: a full base URL, or a server name to discover. */
export type HomeserverInput =
  | { kind: "url"; url: string }
  | { kind: "name"; serverName: string };

// A server name is a hostname (DNS name, IPv4 or [IPv6]) with an optional
// port (appendices "Server Name").
const SERVER_NAME = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i;

/** parseHomeserver understands "example.org", "example.org:8448", "https://matrix.example.org/". */
export function parseHomeserver(raw: string): HomeserverInput | null {
  const s = raw.trim();
  if (!s) return null;
  if (/^https?:\/\//i.test(s)) {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      return null;
    }
    if (u.search || u.hash || u.username) return null;
    return { kind: "url", url: trimSlash(u.origin + u.pathname) };
  }
  if (!SERVER_NAME.test(s) || s.startsWith(".") || s.endsWith(".")) return null;
  return { kind: "name", serverName: s.toLowerCase() };
}

/** serverNameOf returns the server part of a full user ID like @alice:example.org. */
export function serverNameOf(userId: string): string | null {
  const m = /^@[^:]+:(.+)$/.exec(userId.trim());
  return m && SERVER_NAME.test(m[1]) ? m[1].toLowerCase() : null;
}

function trimSlash(u: string): string {
  return u.replace(/\/+$/, "");
}

export class DiscoveryError extends Error {
  constructor(readonly server: string, readonly reason: string) {
    super(`discovery failed for ${server}: ${reason}`);
    this.name = "DiscoveryError";
  }
}

/** wellKnownBaseURL reads /.well-known/matrix/client; null means "IGNORE" (404). */
async function wellKnownBaseURL(fetchFn: Fetch, origin: string): Promise<string | null> {
  let res;
  try {
    res = await requestJSON<Record<string, unknown>>(fetchFn, `${origin}/.well-known/matrix/client`);
  } catch (e) {
    if (e instanceof NetworkError) return null; // no well-known server at all: same as 404
    throw e;
  }
  if (res.status === 404) return null;
  if (res.status !== 200) throw new DiscoveryError(origin, `well-known answered ${res.status}`);
  const hs = res.body["m.homeserver"] as Record<string, unknown> | undefined;
  const base = hs?.["base_url"];
  if (typeof base !== "string") throw new DiscoveryError(origin, "well-known has no m.homeserver.base_url");
  const parsed = parseHomeserver(base);
  if (!parsed || parsed.kind !== "url") throw new DiscoveryError(origin, "well-known base_url is not a URL");
  return parsed.url;
}

/** checkVersions confirms that base serves the client-server API. */
export async function checkVersions(fetchFn: Fetch, base: string): Promise<boolean> {
  try {
    const res = await requestJSON<{ versions?: unknown }>(fetchFn, `${base}/_matrix/client/versions`);
    return res.status === 200 && Array.isArray(res.body.versions);
  } catch {
    return false;
  }
}

/**
 * discover resolves user input to a working homeserver base URL. A server
 * name goes through .well-known first and falls back to https://name; a URL
 * is used as given when it serves /versions, else its .well-known is tried.
 */
export async function discover(fetchFn: Fetch, input: HomeserverInput): Promise<string> {
  if (input.kind === "url") {
    if (await checkVersions(fetchFn, input.url)) return input.url;
    const viaWellKnown = await wellKnownBaseURL(fetchFn, new URL(input.url).origin);
    if (viaWellKnown && (await checkVersions(fetchFn, viaWellKnown))) return viaWellKnown;
    throw new DiscoveryError(input.url, "no client API");
  }
  const origin = `https://${input.serverName}`;
  const base = (await wellKnownBaseURL(fetchFn, origin)) ?? origin;
  if (await checkVersions(fetchFn, base)) return base;
  throw new DiscoveryError(input.serverName, "no client API");
}

/** displayHost shows a base URL without the scheme when it is https. */
export function displayHost(base: string): string {
  return base.replace(/^https:\/\//, "");
}
