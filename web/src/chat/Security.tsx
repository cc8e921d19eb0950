// The security prompts: set up cross-signing and secure key backup at first
// sign-in (showing the recovery key once), or restore from the recovery key
// on a new device.
import type { MatrixClient } from "matrix-js-sdk";
import { useEffect, useRef, useState } from "preact/hooks";
import { useI18n } from "../app";
import { errorMessage } from "../errors";
import { Field } from "../ui/Field";
import { BadRecoveryKey, KeyCache, restoreWithRecoveryKey, SecurityState, securityState, setUpSecurity } from "./security";

interface Props {
  client: MatrixClient;
  keys: KeyCache;
  cryptoReady: Promise<boolean>;
}

export function SecurityPrompt({ client, keys, cryptoReady }: Props) {
  const { t } = useI18n();
  const [state, setState] = useState<SecurityState | null>(null);
  const [open, setOpen] = useState(false);
  const refresh = () =>
    securityState(client).then(setState, (e) => {
      console.warn("kabar: checking the security state failed", e);
      setState(null);
    });
  useEffect(() => {
    void cryptoReady.then((ok) => (ok ? refresh() : setState("unavailable")));
  }, [client]);
  if (state !== "setup" && state !== "restore") return null;
  const done = () => {
    setOpen(false);
    void refresh();
  };
  return (
    <div class="banner security" role="region" aria-label={t("security.title")} data-testid="security-banner">
      <span>{state === "setup" ? t("security.setupHint") : t("security.restoreHint")}</span>
      <button class="primary small" onClick={() => setOpen(true)}>
        {state === "setup" ? t("security.setup") : t("security.restore")}
      </button>
      {open && state === "setup" && <SetupDialog client={client} onDone={done} />}
      {open && state === "restore" && <RestoreDialog client={client} keys={keys} onDone={done} />}
    </div>
  );
}

function Dialog({ title, onClose, children, testId }: { title: string; onClose?: () => void; children: preact.ComponentChildren; testId: string }) {
  const { t } = useI18n();
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => box.current?.focus(), []);
  return (
    <div class="overlay">
      <div class="dialog" role="dialog" aria-modal="true" aria-label={title} tabIndex={-1} ref={box} data-testid={testId}
        onKeyDown={(e) => e.key === "Escape" && onClose?.()}>
        <header class="dialog-head">
          <h2>{title}</h2>
          {onClose && <button class="secondary" onClick={onClose} aria-label={t("settings.close")}>×</button>}
        </header>
        {children}
      </div>
    </div>
  );
}

function SetupDialog({ client, onDone }: { client: MatrixClient; onDone: () => void }) {
  const { t } = useI18n();
  const [phase, setPhase] = useState<"intro" | "busy" | "password" | "key">("intro");
  const [error, setError] = useState("");
  const [password, setPassword] = useState("");
  const [key, setKey] = useState("");
  const [saved, setSaved] = useState(false);
  const [copied, setCopied] = useState(false);
  const passwordWaiter = useRef<((p: string) => void) | null>(null);

  const start = async () => {
    setPhase("busy");
    setError("");
    try {
      const k = await setUpSecurity(client, () => {
        setPhase("password");
        return new Promise<string>((ok) => (passwordWaiter.current = ok));
      });
      setKey(k);
      setPhase("key");
    } catch (e) {
      setError(errorMessage(t, e));
      setPhase("intro");
    }
  };
  const submitPassword = (e: Event) => {
    e.preventDefault();
    setPhase("busy");
    passwordWaiter.current?.(password);
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(key);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <Dialog title={t("security.setupTitle")} onClose={phase === "key" ? undefined : onDone} testId="security-setup">
      {phase === "intro" && (
        <>
          <p>{t("security.setupIntro")}</p>
          <button class="primary" onClick={start}>{t("security.setupStart")}</button>
        </>
      )}
      {phase === "busy" && <p role="status">{t("security.working")}</p>}
      {phase === "password" && (
        <form onSubmit={submitPassword}>
          <p>{t("security.passwordHint")}</p>
          <Field label={t("auth.password")} name="password" type="password" value={password} onInput={setPassword} autoComplete="current-password" />
          <button class="primary" type="submit">{t("security.continue")}</button>
        </form>
      )}
      {phase === "key" && (
        <>
          <p>{t("security.keyIntro")}</p>
          <code class="recovery-key" data-testid="recovery-key">{key}</code>
          <div class="row">
            <button class="secondary" onClick={copy}>{copied ? t("security.copied") : t("security.copy")}</button>
          </div>
          <label class="check">
            <input type="checkbox" checked={saved} onChange={(e) => setSaved((e.currentTarget as HTMLInputElement).checked)} />
            {t("security.savedIt")}
          </label>
          <button class="primary" disabled={!saved} onClick={onDone}>{t("security.done")}</button>
        </>
      )}
      {error && <p class="error" role="alert">{error}</p>}
    </Dialog>
  );
}

function RestoreDialog({ client, keys, onDone }: { client: MatrixClient; keys: KeyCache; onDone: () => void }) {
  const { t } = useI18n();
  const [input, setInput] = useState("");
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<[number, number] | null>(null);
  const [imported, setImported] = useState<number | null>(null);
  const [error, setError] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      setImported(await restoreWithRecoveryKey(client, keys, input, (done, total) => setProgress([done, total])));
    } catch (err) {
      setError(err instanceof BadRecoveryKey ? t("security.badKey") : errorMessage(t, err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={t("security.restoreTitle")} onClose={onDone} testId="security-restore">
      {imported === null ? (
        <form onSubmit={submit}>
          <p>{t("security.restoreIntro")}</p>
          <Field label={t("security.recoveryKey")} name="recovery-key" value={input} onInput={setInput} autoComplete="off" />
          <button class="primary" type="submit" disabled={busy || !input.trim()}>{busy ? t("security.working") : t("security.restore")}</button>
          {busy && progress && <p role="status">{t("security.progress", { done: progress[0], total: progress[1] })}</p>}
        </form>
      ) : (
        <>
          <p role="status" data-testid="restore-done">{t("security.restored", { count: imported })}</p>
          <button class="primary" onClick={onDone}>{t("security.done")}</button>
        </>
      )}
      {error && <p class="error" role="alert">{error}</p>}
    </Dialog>
  );
}
