// User settings: display name, language, this session, sign out.
import type { MatrixClient } from "matrix-js-sdk";
import { useEffect, useRef, useState } from "preact/hooks";
import { useI18n } from "../app";
import { errorMessage } from "../errors";
import type { Session } from "../flows";
import { Field } from "../ui/Field";
import { LanguagePicker } from "../ui/LanguagePicker";
import { AvatarSetting, DevicesSetting, NotificationSetting, PasswordSetting } from "./AccountSettings";

interface Props {
  client: MatrixClient;
  session: Session;
  onClose: () => void;
  onSignOut: () => Promise<void>;
}

export function Settings({ client, session, onClose, onSignOut }: Props) {
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [status, setStatus] = useState("");
  const [busy, setBusy] = useState(false);
  const dialog = useRef<HTMLDivElement>(null);

  useEffect(() => {
    client.getProfileInfo(session.userId).then(
      (p) => setName((n) => n || p.displayname || ""),
      () => {},
    );
    dialog.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setStatus("");
    try {
      await client.setDisplayName(name.trim());
      setStatus(t("settings.saved"));
    } catch (err) {
      setStatus(errorMessage(t, err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="overlay" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="settings-title" tabIndex={-1} ref={dialog}>
        <header class="dialog-head">
          <h2 id="settings-title">{t("settings.title")}</h2>
          <button class="secondary" onClick={onClose} aria-label={t("settings.close")}>×</button>
        </header>
        <form onSubmit={save} aria-label={t("settings.profile")}>
          <h3>{t("settings.profile")}</h3>
          <AvatarSetting client={client} name={name || session.userId} />
          <Field label={t("settings.displayName")} name="displayname" value={name} onInput={setName} autoComplete="nickname" />
          <div class="row">
            <button type="submit" class="primary" disabled={busy}>{t("settings.save")}</button>
            {status && <span role="status" data-testid="settings-status">{status}</span>}
          </div>
        </form>
        <dl class="facts">
          <dt>{t("settings.userId")}</dt>
          <dd>{session.userId}</dd>
          <dt>{t("settings.device")}</dt>
          <dd>{session.deviceId}</dd>
          <dt>{t("auth.homeserver")}</dt>
          <dd>{session.homeserverUrl}</dd>
          <dt>{t("settings.language")}</dt>
          <dd><LanguagePicker /></dd>
        </dl>
        <NotificationSetting />
        <DevicesSetting client={client} />
        <PasswordSetting client={client} />
        <button class="danger" onClick={() => void onSignOut()}>{t("main.signOut")}</button>
      </div>
    </div>
  );
}
