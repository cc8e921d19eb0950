// Creating, starting and stopping the matrix-js-sdk client for a session.
import { createClient, HttpApiEvent, MatrixClient } from "matrix-js-sdk";
import type { Session } from "../flows";
import { KeyCache } from "./security";

export interface Started {
  client: MatrixClient;
  /** stop ends syncing for good, even if the crypto is still loading. */
  stop: () => void;
  /** crypto settles once the Rust crypto is ready (true) or unavailable (false). */
  crypto: Promise<boolean>;
  /** keys holds secret-storage keys known in this session (never stored). */
  keys: KeyCache;
}

/**
 * startSession builds the client and starts syncing. The Rust crypto and its
 * WebAssembly load lazily inside initRustCrypto; syncing starts once it
 * settles so that encrypted events can be decrypted as they arrive.
 */
export function startSession(s: Session, onLoggedOut: () => void): Started {
  const keys = new KeyCache();
  const client = createClient({
    cryptoCallbacks: keys.callbacks,
    baseUrl: s.homeserverUrl,
    accessToken: s.accessToken,
    userId: s.userId,
    deviceId: s.deviceId,
    // Without timeline support a limited (gappy) sync replaces the live
    // timeline and back-pagination refills it from prev_batch. With it, the
    // SDK keeps the old fragment apart and scrollback skips its events as
    // "already in timeline", leaving holes in what the room shows.
    timelineSupport: false,
    fetchFn: tolerantFetch,
  });
  let stopped = false;
  client.on(HttpApiEvent.SessionLoggedOut, () => !stopped && onLoggedOut());
  const crypto = client
    .initRustCrypto({ useIndexedDB: typeof indexedDB !== "undefined" })
    .then(
      () => true,
      (e: unknown) => {
        console.warn("kabar: encryption unavailable", e);
        return false;
      },
    );
  void crypto.then(() => {
    if (!stopped) void client.startClient({ initialSyncLimit: 30, lazyLoadMembers: true });
  });
  const stop = () => {
    stopped = true;
    client.stopClient();
    client.removeAllListeners();
  };
  return { client, crypto, stop, keys };
}

/** signOut ends the session on the server (best effort) and wipes local stores. */
export async function signOut({ client, stop }: Started): Promise<void> {
  stop();
  try {
    await client.logout(true);
  } catch (e) {
    console.warn("kabar: server logout failed; clearing the local session anyway", e);
  }
  try {
    await client.clearStores();
  } catch (e) {
    console.warn("kabar: clearing local stores failed", e);
  }
}

/**
 * tolerantFetch lets the client run against servers without push rules: the
 * SDK retries GET /pushrules/ before its first sync forever, so a 404 there
 * becomes an empty rule set (push-rules are optional for a homeserver's users,
 * client-server API "Push Notifications"; the server then just sends no counts).
 */
export const tolerantFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  if (res.status === 404 && (init?.method ?? "GET") === "GET" && /\/_matrix\/client\/v3\/pushrules\/?(\?|$)/.test(url))
    return new Response(JSON.stringify({ global: {} }), { status: 200, headers: { "Content-Type": "application/json" } });
  return res;
};
