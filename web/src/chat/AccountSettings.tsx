// User settings sections: avatar, devices (with trust state and sign-out of
// other devices behind a password), change password, notifications.
import type { IMyDevice, MatrixClient } from "matrix-js-sdk";
import { useEffect, useRef, useState } from "preact/hooks";
import { useI18n } from "../app";
import { errorMessage } from "../errors";
import { Field } from "../ui/Field";
import { mediaURL } from "./media";
import { notificationsAllowed, requestNotifications } from "./notify";
import { initials } from "./rooms";
import { withPassword } from "./uia";

export function AvatarSetting({ client, name }: { client: MatrixClient; name: string }) {
  const { t } = useI18n();
  const [mxc, setMxc] = useState<string | undefined>(undefined);
  const [url, setUrl] = useState("");
  const [status, setStatus] = useState("");
  const picker = useRef<HTMLInputElement>(null);
  useEffect(() => {
    client.getProfileInfo(client.getUserId()!).then((p) => setMxc(p.avatar_url), () => {});
  }, []);
  useEffect(() => {
    if (mxc) void mediaURL(client, { url: mxc, mimetype: "image/png" }, { w: 96, h: 96 }).then(setUrl, () => setUrl(""));
  }, [mxc]);
  const upload = async (file: File) => {
    setStatus(t("media.loading"));
    try {
      const res = await client.uploadContent(file, { name: file.name, type: file.type });
      await client.setAvatarUrl(res.content_uri);
      setMxc(res.content_uri);
      setStatus(t("settings.saved"));
    } catch (e) {
      setStatus(errorMessage(t, e));
    }
  };
  return (
    <div class="row avatar-setting">
      {url ? <img class="avatar big" src={url} alt={t("account.avatar")} data-testid="my-avatar" /> : <span class="avatar big" aria-hidden="true">{initials(name)}</span>}
      <input ref={picker} type="file" accept="image/png,image/jpeg,image/gif,image/webp" hidden data-testid="avatar-input"
        onChange={(e) => {
          const f = (e.currentTarget as HTMLInputElement).files?.[0];
          if (f) void upload(f);
        }} />
      <button class="secondary small" onClick={() => picker.current?.click()}>{t("account.changeAvatar")}</button>
      {status && <span role="status">{status}</span>}
    </div>
  );
}

interface DeviceRow extends IMyDevice {
  verified?: boolean;
}

export function DevicesSetting({ client }: { client: MatrixClient }) {
  const { t, lang } = useI18n();
  const [devices, setDevices] = useState<DeviceRow[] | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const me = client.getUserId()!;
  const mine = client.getDeviceId();
  const load = async () => {
    try {
      const { devices } = await client.getDevices();
      const crypto = client.getCrypto();
      const rows = await Promise.all(
        devices.map(async (d) => ({ ...d, verified: (await crypto?.getDeviceVerificationStatus(me, d.device_id))?.crossSigningVerified })),
      );
      setDevices(rows.sort((a, b) => (a.device_id === mine ? -1 : b.device_id === mine ? 1 : (b.last_seen_ts ?? 0) - (a.last_seen_ts ?? 0))));
    } catch (e) {
      setError(errorMessage(t, e));
    }
  };
  useEffect(() => void load(), []);
  const signOut = async (e: Event) => {
    e.preventDefault();
    if (!removing) return;
    setError("");
    try {
      await withPassword(me, password, (auth) => client.deleteDevice(removing, auth as never));
      setRemoving(null);
      setPassword("");
      await load();
    } catch (err) {
      setError(errorMessage(t, err));
    }
  };
  return (
    <section aria-labelledby="devices-title" data-testid="devices">
      <h3 id="devices-title">{t("account.devices")}</h3>
      {devices === null && !error && <p class="muted">{t("media.loading")}</p>}
      <ul class="devices">
        {devices?.map((d) => (
          <li key={d.device_id} class="device" data-testid="device" data-device-id={d.device_id}>
            <div>
              <strong>{d.display_name || d.device_id}</strong>{" "}
              {d.device_id === mine && <span class="tag">{t("account.thisDevice")}</span>}{" "}
              <span class={d.verified ? "tag ok" : "tag warn"} data-testid="device-trust">{d.verified ? t("account.verified") : t("account.unverified")}</span>
              <div class="muted small-text">
                {d.device_id}
                {d.last_seen_ts ? ` · ${t("account.lastSeen", { when: new Date(d.last_seen_ts).toLocaleString(lang) })}` : ""}
              </div>
            </div>
            {d.device_id !== mine && removing !== d.device_id && (
              <button class="danger small" onClick={() => (setRemoving(d.device_id), setError(""))}>{t("main.signOut")}</button>
            )}
            {removing === d.device_id && (
              <form class="row" onSubmit={signOut}>
                <Field label={t("account.confirmPassword")} name="device-password" type="password" value={password} onInput={setPassword} autoComplete="current-password" />
                <button class="danger small" type="submit" disabled={!password}>{t("account.confirmSignOut")}</button>
                <button class="link" type="button" onClick={() => setRemoving(null)}>{t("composer.cancel")}</button>
              </form>
            )}
          </li>
        ))}
      </ul>
      {error && <p class="error" role="alert">{error}</p>}
    </section>
  );
}

export function PasswordSetting({ client }: { client: MatrixClient }) {
  const { t } = useI18n();
  const [old, setOld] = useState("");
  const [next, setNext] = useState("");
  const [status, setStatus] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    setStatus("");
    if (next.length < 8) return setStatus(t("validate.passwordShort", { min: 8 }));
    try {
      // Other devices stay signed in; the spec's logout_devices defaults to true.
      await withPassword(client.getUserId()!, old, (auth) => client.setPassword(auth as never, next, false));
      setOld("");
      setNext("");
      setStatus(t("account.passwordChanged"));
    } catch (err) {
      setStatus(errorMessage(t, err));
    }
  };
  return (
    <form onSubmit={submit} aria-labelledby="password-title" data-testid="change-password">
      <h3 id="password-title">{t("account.changePassword")}</h3>
      <Field label={t("account.currentPassword")} name="old-password" type="password" value={old} onInput={setOld} autoComplete="current-password" />
      <Field label={t("account.newPassword")} name="new-password" type="password" value={next} onInput={setNext} autoComplete="new-password" />
      <div class="row">
        <button class="primary" type="submit" disabled={!old || !next}>{t("account.changePassword")}</button>
        {status && <span role="status" data-testid="password-status">{status}</span>}
      </div>
    </form>
  );
}

export function NotificationSetting() {
  const { t } = useI18n();
  const [state, setState] = useState(notificationsAllowed());
  if (state === "unsupported") return <p class="muted">{t("notify.unsupported")}</p>;
  return (
    <div class="row">
      <span>{t("notify.title")}:</span>
      {state === "granted" ? (
        <span data-testid="notify-state">{t("notify.on")}</span>
      ) : state === "denied" ? (
        <span class="muted">{t("notify.blocked")}</span>
      ) : (
        <button class="secondary small" onClick={() => void requestNotifications().then(setState)}>{t("notify.enable")}</button>
      )}
    </div>
  );
}
