// Cross-signing, secret storage and key backup (client-server API,
// "End-to-end encryption": "Cross-signing", "Secrets", "Server-side key
// backups"), driven through matrix-js-sdk's CryptoApi.
import type { MatrixClient } from "matrix-js-sdk";
import { decodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api";
import type { CryptoCallbacks } from "matrix-js-sdk/lib/crypto-api";

/**
 * KeyCache holds secret-storage keys for this session only (never
 * persisted): the one created at setup, or the one the user typed in.
 * The SDK asks for them through its crypto callbacks.
 */
export class KeyCache {
  private keys = new Map<string, Uint8Array<ArrayBuffer>>();

  readonly callbacks: CryptoCallbacks = {
    getSecretStorageKey: async ({ keys }) => {
      for (const id of Object.keys(keys)) {
        const k = this.keys.get(id);
        if (k) return [id, k];
      }
      return null;
    },
    cacheSecretStorageKey: (keyId, _info, key) => void this.keys.set(keyId, key as Uint8Array<ArrayBuffer>),
  };

  set(keyId: string, key: Uint8Array<ArrayBuffer>) {
    this.keys.set(keyId, key);
  }
}

export type SecurityState = "unavailable" | "setup" | "restore" | "ready";

/**
 * securityState says what the user should be asked: "setup" when the account
 * has no cross-signing identity yet (first sign-in), "restore" when a key
 * backup exists but this device can't read it (a new device), else "ready".
 */
export async function securityState(client: MatrixClient): Promise<SecurityState> {
  const crypto = client.getCrypto();
  if (!crypto) return "unavailable";
  const hasIdentity = await crypto.userHasCrossSigningKeys(client.getUserId()!, true);
  const backup = await crypto.getKeyBackupInfo();
  if (!hasIdentity && !backup) return "setup";
  const haveBackupKey = !!(await crypto.getSessionBackupPrivateKey());
  const status = await crypto.getCrossSigningStatus();
  if ((backup && !haveBackupKey) || (hasIdentity && !status.privateKeysCachedLocally.masterKey && !status.privateKeysCachedLocally.selfSigningKey))
    return (await client.secretStorage.getDefaultKeyId()) ? "restore" : "setup";
  return "ready";
}

/** UIAError is what the SDK throws when the server asks for user-interactive auth. */
interface UIAError {
  httpStatus?: number;
  data?: { session?: string; flows?: { stages: string[] }[] };
}

/**
 * setUpSecurity creates the cross-signing identity (uploading it with a
 * password if the server asks for UIA), secret storage with a new recovery
 * key, and a new key backup. It returns the recovery key to show once.
 */
export async function setUpSecurity(client: MatrixClient, askPassword: () => Promise<string>): Promise<string> {
  const crypto = client.getCrypto();
  if (!crypto) throw new Error("encryption is not available");
  await crypto.bootstrapCrossSigning({
    setupNewCrossSigning: true,
    authUploadDeviceSigningKeys: async (makeRequest) => {
      try {
        await makeRequest(null);
      } catch (e) {
        const err = e as UIAError;
        if (err.httpStatus !== 401 || !err.data?.flows) throw e;
        const password = await askPassword();
        await makeRequest({
          type: "m.login.password",
          identifier: { type: "m.id.user", user: client.getUserId()! },
          password,
          session: err.data.session,
        } as never);
      }
    },
  });
  const recovery = await crypto.createRecoveryKeyFromPassphrase();
  await crypto.bootstrapSecretStorage({
    createSecretStorageKey: async () => recovery,
    setupNewSecretStorage: true,
    setupNewKeyBackup: true,
  });
  return recovery.encodedPrivateKey!;
}

/** RestoreProgress reports keys imported so far. */
export type RestoreProgress = (done: number, total: number) => void;

/**
 * restoreWithRecoveryKey checks the recovery key against secret storage,
 * imports the cross-signing keys (signing this device) and the backup key,
 * then downloads and imports every backed-up room key. It returns how many
 * keys were imported. A wrong key throws BadRecoveryKey.
 */
export async function restoreWithRecoveryKey(client: MatrixClient, keys: KeyCache, recoveryKey: string, progress: RestoreProgress): Promise<number> {
  const crypto = client.getCrypto();
  if (!crypto) throw new Error("encryption is not available");
  let key: Uint8Array<ArrayBuffer>;
  try {
    key = decodeRecoveryKey(recoveryKey.trim()) as Uint8Array<ArrayBuffer>;
  } catch {
    throw new BadRecoveryKey();
  }
  const found = await client.secretStorage.getKey();
  if (!found) throw new Error("this account has no secret storage");
  const [keyId, info] = found;
  if (!(await client.secretStorage.checkKey(key, info as never))) throw new BadRecoveryKey();
  keys.set(keyId, key);
  // Imports the cross-signing private keys from secret storage and signs
  // this device with them; it must not create a new identity.
  await crypto.bootstrapCrossSigning({
    authUploadDeviceSigningKeys: async () => {
      throw new Error("refusing to replace the cross-signing identity during restore");
    },
  });
  await crypto.loadSessionBackupPrivateKeyFromSecretStorage();
  await crypto.checkKeyBackupAndEnable();
  const res = await crypto.restoreKeyBackup({
    progressCallback: (p) => {
      if (p.stage === "load_keys") progress(p.successes + p.failures, p.total);
    },
  });
  return res.imported;
}

export class BadRecoveryKey extends Error {
  constructor() {
    super("that recovery key is not right for this account");
    this.name = "BadRecoveryKey";
  }
}
