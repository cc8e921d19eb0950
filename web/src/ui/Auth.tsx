// Sign in and registration, against this site's homeserver by default or any
// other one found through discovery.
import { useEffect, useState } from "preact/hooks";
import { useI18n } from "../app";
import { errorMessage } from "../errors";
import { passwordLogin, probeRegistration, register, RegistrationPlan, Session } from "../flows";
import {
  IdentityProvider, jwtLogin, LoginCallback, LoginPlan, loginPlan, parseLoginCallback, rememberSSOBase,
  ssoRedirectURL, ssoReturnURL, takeSSOBase, tokenLogin,
} from "../login";
import { discover, displayHost, parseHomeserver } from "../homeserver";
import { deviceName } from "../session";
import { FieldErrors, hasErrors, validateLogin, validateRegister } from "../validation";
import { AltLogin } from "./AltLogin";
import { Field } from "./Field";
import { LanguagePicker } from "./LanguagePicker";

type Mode = "login" | "register";

const f = (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init);

export function Auth({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const { t } = useI18n();
  const [mode, setMode] = useState<Mode>(location.hash === "#register" ? "register" : "login");
  const [base, setBase] = useState(location.origin);
  const [editingServer, setEditingServer] = useState(false);
  const [serverInput, setServerInput] = useState("");
  const [serverError, setServerError] = useState("");
  const [checking, setChecking] = useState(false);
  const [login, setLogin] = useState<LoginPlan | null>(null);
  // A token the identity provider put in the URL: sign in with it at once.
  const [callback] = useState<LoginCallback | null>(() => parseLoginCallback(location.href));
  const [auto, setAuto] = useState(callback !== null);
  const [plan, setPlan] = useState<RegistrationPlan | null>(null);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [token, setToken] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState("");
  const [altError, setAltError] = useState("");
  const [busy, setBusy] = useState(false);

  // Ask the server what it offers whenever the server or the mode changes.
  useEffect(() => {
    let live = true;
    setFormError("");
    if (mode === "login") {
      setLogin(null);
      loginPlan(f, base).then(
        (p) => live && setLogin(p),
        (e) => live && setFormError(errorMessage(t, e, "login")),
      );
    } else {
      setPlan(null);
      probeRegistration(f, base).then(
        (p) => live && setPlan(p),
        (e) => live && setFormError(errorMessage(t, e, "register")),
      );
    }
    return () => {
      live = false;
    };
  }, [mode, base]);

  // Finish a sign-in the URL carries; the token leaves the address bar and
  // history first, so it is gone even when the sign-in fails.
  useEffect(() => {
    if (!callback) return;
    history.replaceState(null, "", callback.cleanURL);
    const dev = deviceName(navigator.userAgent);
    let done: Promise<Session>;
    if (callback.kind === "jwt") done = jwtLogin(f, base, callback.token, dev);
    else {
      const ssoBase = takeSSOBase(sessionStorage, base);
      setBase(ssoBase);
      done = tokenLogin(f, ssoBase, callback.loginToken, dev);
    }
    done.then(onSignedIn, (err) => {
      setAuto(false);
      setFormError(errorMessage(t, err, callback.kind));
    });
  }, []);

  const signInWithJWT = async (token: string) => {
    setFormError("");
    setAltError("");
    setBusy(true);
    try {
      onSignedIn(await jwtLogin(f, base, token, deviceName(navigator.userAgent)));
    } catch (err) {
      setAltError(errorMessage(t, err, "jwt"));
      setBusy(false);
    }
  };

  // SSO leaves the page; the server sends the browser back with ?loginToken=.
  const startSSO = (idp?: IdentityProvider) => {
    rememberSSOBase(sessionStorage, base);
    location.assign(ssoRedirectURL(base, ssoReturnURL(location.href), idp?.id));
  };

  const switchMode = (m: Mode) => {
    setMode(m);
    setAltError("");
    setErrors({});
    history.replaceState(null, "", m === "register" ? "#register" : location.pathname);
  };

  const applyServer = async (e: Event) => {
    e.preventDefault();
    const parsed = parseHomeserver(serverInput);
    if (!parsed) {
      setServerError(t(serverInput.trim() ? "validate.homeserverInvalid" : "validate.homeserverRequired"));
      return;
    }
    setChecking(true);
    setServerError("");
    try {
      setBase(await discover(f, parsed));
      setEditingServer(false);
    } catch (err) {
      setServerError(errorMessage(t, err));
    } finally {
      setChecking(false);
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setFormError("");
    const needsToken = plan?.kind === "ok" && plan.needsToken;
    const errs =
      mode === "login"
        ? validateLogin(username, password)
        : validateRegister({ username, password, confirm, token, needsToken });
    setErrors(errs);
    if (hasErrors(errs)) return;
    setBusy(true);
    try {
      const dev = deviceName(navigator.userAgent);
      const s =
        mode === "login"
          ? await passwordLogin(f, base, username, password, dev)
          : await register(f, base, { username, password, token, deviceName: dev });
      onSignedIn(s);
    } catch (err) {
      setFormError(errorMessage(t, err, mode));
      setBusy(false);
    }
  };

  const noPassword = mode === "login" && login !== null && !login.password;
  const loginBlocked = noPassword && !login.jwt && login.sso === null;
  const regBlocked = mode === "register" && plan !== null && plan.kind !== "ok";
  const blocked = loginBlocked || regBlocked || auto;
  const err = (k: keyof FieldErrors) => (errors[k] ? t(errors[k]!) : undefined);

  return (
    <div class="auth-page">
      <div class="auth-card">
        <header class="auth-head">
          <img src="/favicon.svg" alt="" width={40} height={40} />
          <div>
            <h1>{t("app.name")}</h1>
            <p class="muted">{t("auth.tagline")}</p>
          </div>
          <LanguagePicker />
        </header>

        <div class="tabs" role="tablist" aria-label={t("app.name")}>
          {(["login", "register"] as Mode[]).map((m) => (
            <button
              key={m}
              role="tab"
              id={`tab-${m}`}
              aria-selected={mode === m}
              aria-controls="auth-panel"
              class={mode === m ? "tab active" : "tab"}
              onClick={() => switchMode(m)}
            >
              {t(m === "login" ? "auth.signIn" : "auth.register")}
            </button>
          ))}
        </div>

        <section class="server-box" aria-label={t("auth.homeserver")}>
          {!editingServer ? (
            <div class="server-line">
              <span>
                {t("auth.homeserver")}: <strong data-testid="homeserver">{displayHost(base)}</strong>
              </span>
              <button class="link" type="button" onClick={() => { setServerInput(displayHost(base)); setEditingServer(true); }}>
                {t("auth.change")}
              </button>
            </div>
          ) : (
            <form class="server-form" onSubmit={applyServer} noValidate>
              <Field label={t("auth.homeserver")} name="homeserver" value={serverInput} onInput={setServerInput}
                error={serverError} autoComplete="url" placeholder="matrix.org" />
              <div class="row">
                <button type="submit" class="secondary" disabled={checking}>
                  {checking ? t("auth.checking") : t("auth.useServer")}
                </button>
                <button type="button" class="link" onClick={() => { setBase(location.origin); setEditingServer(false); setServerError(""); }}>
                  {t("auth.useDefault")}
                </button>
              </div>
            </form>
          )}
        </section>

        <form id="auth-panel" role="tabpanel" aria-labelledby={`tab-${mode}`} onSubmit={submit} noValidate>
          {loginBlocked && <p class="notice" role="alert">{t("auth.noSignInMethod")}</p>}
          {auto && callback && (
            <p class="muted" role="status" data-testid="auto-signin">
              {t(callback.kind === "jwt" ? "auth.jwtAuto" : "auth.ssoAuto")}
            </p>
          )}
          {mode === "register" && plan?.kind === "closed" && <p class="notice" role="alert">{t("auth.registrationClosed")}</p>}
          {mode === "register" && plan?.kind === "unsupported" && (
            <p class="notice" role="alert">{t("auth.unsupportedFlows", { stages: plan.stages.join(", ") })}</p>
          )}
          {!noPassword && <>
            <Field label={t("auth.username")} name="username" value={username} onInput={setUsername} error={err("username")}
              autoComplete="username" autoFocus disabled={blocked} />
            <Field label={t("auth.password")} name="password" type="password" value={password} onInput={setPassword}
              error={err("password")} autoComplete={mode === "login" ? "current-password" : "new-password"} disabled={blocked} />
            {mode === "register" && (
              <Field label={t("auth.confirmPassword")} name="confirm" type="password" value={confirm} onInput={setConfirm}
                error={err("confirm")} autoComplete="new-password" disabled={blocked} />
            )}
            {mode === "register" && plan?.kind === "ok" && plan.needsToken && (
              <Field label={t("auth.token")} name="token" value={token} onInput={setToken} error={err("token")}
                hint={t("auth.tokenHint")} disabled={blocked} />
            )}
          </>}
          {formError && <p class="error" role="alert" data-testid="form-error">{formError}</p>}
          {!noPassword && (
            <button type="submit" class="primary" disabled={busy || blocked}>
              {busy ? t("auth.busy") : t(mode === "login" ? "auth.signIn" : "auth.register")}
            </button>
          )}
        </form>
        {mode === "login" && login && !auto && (
          <AltLogin plan={login} busy={busy} error={altError} onJWT={signInWithJWT} onSSO={startSSO} />
        )}
        <p class="muted switch">
          {t(mode === "login" ? "auth.noAccount" : "auth.haveAccount")}{" "}
          <button type="button" class="link" onClick={() => switchMode(mode === "login" ? "register" : "login")}>
            {t(mode === "login" ? "auth.register" : "auth.signIn")}
          </button>
        </p>
      </div>
    </div>
  );
}
