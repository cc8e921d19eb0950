// Creating, starting and stopping the matrix-js-sdk client for a session.
import { createClient, HttpApiEvent, MatrixClient } from "matrix-js-sdk";
import type { Session } from "../flows";

export interface Started {
  client: MatrixClient;
  /** stop ends syncing for good, even if the crypto is still loading. */
  stop: () => void;
  /** crypto settles once the Rust crypto is ready (true) or unavailable (false). */
  crypto: Promise<boolean>;
}

/**
 * startSession builds the client and starts syncing. The Rust crypto and its
 * WebAssembly load lazily inside initRustCrypto; syncing starts once it
 * settles so that encrypted events can be decrypted as they arrive.
 */
export function startSession(s: Session, onLoggedOut: () => void): Started {
  const client = createClient({
    baseUrl: s.homeserverUrl,
    accessToken: s.accessToken,
    userId: s.userId,
    deviceId: s.deviceId,
    timelineSupport: true,
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
  return { client, crypto, stop };
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
