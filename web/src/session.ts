// The signed-in session, kept in localStorage so it survives reloads.
import type { Session } from "./flows";

const KEY = "kabar.session.v1";

export interface KeyValue {
  getItem(k: string): string | null;
  setItem(k: string, v: string): void;
  removeItem(k: string): void;
}

export function saveSession(store: KeyValue, s: Session): void {
  store.setItem(KEY, JSON.stringify(s));
}

/** loadSession returns the stored session, or null when absent or damaged. */
export function loadSession(store: KeyValue): Session | null {
  const raw = store.getItem(KEY);
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Partial<Session>;
    if (
      typeof s.homeserverUrl === "string" &&
      typeof s.userId === "string" &&
      typeof s.accessToken === "string" &&
      typeof s.deviceId === "string"
    )
      return s as Session;
  } catch {
    // fall through: a damaged entry is dropped
  }
  store.removeItem(KEY);
  return null;
}

export function clearSession(store: KeyValue): void {
  store.removeItem(KEY);
}

/** deviceName names this browser session in the user's device list. */
export function deviceName(userAgent: string): string {
  const browser = /Firefox\//.test(userAgent)
    ? "Firefox"
    : /Edg\//.test(userAgent)
      ? "Edge"
      : /Chrom(e|ium)\//.test(userAgent)
        ? "Chrome"
        : /Safari\//.test(userAgent)
          ? "Safari"
          : "browser";
  return `Kabar Web (${browser})`;
}
