// Sign-in methods other than the password: the organization's JWT
// (org.matrix.login.jwt) and single sign-on buttons, one per identity provider.
import { useState } from "preact/hooks";
import { useI18n } from "../app";
import { IdentityProvider, LoginPlan, looksLikeJWT } from "../login";
import { Field } from "./Field";

interface Props {
  plan: LoginPlan;
  busy: boolean;
  /** error is the server's answer to the last JWT sign-in. */
  error: string;
  onJWT: (token: string) => void;
  onSSO: (idp?: IdentityProvider) => void;
}

export function AltLogin({ plan, busy, error: serverError, onJWT, onSSO }: Props) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [token, setToken] = useState("");
  const [error, setError] = useState("");
  if (!plan.jwt && plan.sso === null) return null;

  const submit = (e: Event) => {
    e.preventDefault();
    if (!looksLikeJWT(token)) {
      setError(t("auth.jwtInvalid"));
      return;
    }
    setError("");
    onJWT(token.trim());
  };

  return (
    <section class="alt-login" aria-label={t("auth.or")}>
      {plan.password && <p class="divider muted">{t("auth.or")}</p>}
      {plan.sso !== null && plan.sso.length === 0 && (
        <button type="button" class="secondary" disabled={busy} onClick={() => onSSO()}>
          {t("auth.ssoButton")}
        </button>
      )}
      {plan.sso?.map((idp) => (
        <button key={idp.id} type="button" class="secondary" disabled={busy} onClick={() => onSSO(idp)} data-idp={idp.id}>
          {t("auth.ssoProvider", { name: idp.name })}
        </button>
      ))}
      {plan.jwt && !open && (
        <button type="button" class="secondary" disabled={busy} onClick={() => setOpen(true)} aria-expanded={false}>
          {t("auth.jwtButton")}
        </button>
      )}
      {plan.jwt && open && (
        <form class="jwt-form" onSubmit={submit} noValidate>
          <Field label={t("auth.jwtLabel")} name="jwt" value={token} onInput={setToken} error={error}
            hint={t("auth.jwtHint")} autoComplete="off" autoFocus disabled={busy} />
          {serverError && <p class="error" role="alert" data-testid="form-error">{serverError}</p>}
          <button type="submit" class="primary" disabled={busy}>
            {busy ? t("auth.busy") : t("auth.jwtButton")}
          </button>
        </form>
      )}
    </section>
  );
}
