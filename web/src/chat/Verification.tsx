// The emoji verification dialog (both sides) and the device list of a
// member with trust state and a Verify button.
import type { MatrixClient } from "matrix-js-sdk";
import { CryptoEvent } from "matrix-js-sdk/lib/crypto-api";
import type { VerificationRequest } from "matrix-js-sdk/lib/crypto-api";
import { useEffect, useRef, useState } from "preact/hooks";
import { useI18n } from "../app";
import { errorMessage } from "../errors";
import { followRequest, sasOf, VerifyView } from "./verification";

export function VerifyDialog({ request, onClose }: { request: VerificationRequest; onClose: () => void }) {
  const { t } = useI18n();
  const [view, setView] = useState<VerifyView>({ step: "waitingStart" });
  const [error, setError] = useState("");
  const confirmed = useRef(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => followRequest(request, setView, confirmed), [request]);
  useEffect(() => box.current?.focus(), []);
  const finished = view.step === "done" || view.step === "cancelled";
  const close = () => {
    if (!finished) void request.cancel().catch(() => {});
    onClose();
  };
  const run = (p: Promise<unknown>) => p.catch((e) => setError(errorMessage(t, e)));
  const confirm = () => {
    const sas = sasOf(request);
    if (!sas) return;
    confirmed.current = true;
    if (view.step === "compare") setView({ ...view, confirmed: true });
    void run(sas.confirm());
  };
  return (
    <div class="overlay">
      <div class="dialog verify" role="dialog" aria-modal="true" aria-label={t("verify.title")} tabIndex={-1} ref={box}
        data-testid="verification" data-step={view.step} onKeyDown={(e) => e.key === "Escape" && close()}>
        <header class="dialog-head">
          <h2>{t("verify.title")}</h2>
          <button class="secondary" onClick={close} aria-label={t("verify.close")}>×</button>
        </header>
        {view.step === "incoming" && (
          <>
            <p>{t("verify.incoming", { who: request.otherUserId, device: request.otherDeviceId ?? "?" })}</p>
            <div class="row">
              <button class="primary" onClick={() => run(request.accept())}>{t("verify.accept")}</button>
              <button class="secondary" onClick={close}>{t("verify.decline")}</button>
            </div>
          </>
        )}
        {view.step === "waitingAccept" && <p class="muted" role="status">{t("verify.waitingAccept")}</p>}
        {view.step === "waitingStart" && <p class="muted" role="status">{t("verify.waitingStart")}</p>}
        {view.step === "compare" && (
          <>
            <p>{t("verify.compare")}</p>
            <ol class="sas" data-testid="sas">
              {view.emoji.map(([e, name], i) => (
                <li key={i} class="sas-emoji" data-testid="sas-emoji" data-name={name}>
                  <span class="sas-symbol" aria-hidden="true">{e}</span>
                  <span class="sas-name">{name}</span>
                </li>
              ))}
            </ol>
            {view.confirmed ? (
              <p class="muted" role="status">{t("verify.waitingOther")}</p>
            ) : (
              <div class="row">
                <button class="primary" onClick={confirm}>{t("verify.match")}</button>
                <button class="danger" onClick={() => sasOf(request)?.mismatch()}>{t("verify.noMatch")}</button>
              </div>
            )}
          </>
        )}
        {view.step === "done" && <p class="ok" role="status" data-testid="verify-done">✅ {t("verify.done")}</p>}
        {view.step === "cancelled" && (
          <p class="error" role="alert">{t("verify.cancelled", { reason: view.reason ? ` (${view.reason})` : "" })}</p>
        )}
        {error && <p class="error" role="alert">{error}</p>}
        {finished && <button class="primary" onClick={onClose}>{t("verify.close")}</button>}
      </div>
    </div>
  );
}

interface DeviceRow {
  deviceId: string;
  name: string;
  verified: boolean;
}

/** MemberDevices lists a user's sessions (their device keys) with trust and Verify. */
export function MemberDevices({ client, userId }: { client: MatrixClient; userId: string }) {
  const { t } = useI18n();
  const [rows, setRows] = useState<DeviceRow[] | null>(null);
  const [request, setRequest] = useState<VerificationRequest | null>(null);
  const [error, setError] = useState("");
  const load = async () => {
    const crypto = client.getCrypto();
    if (!crypto) return setRows([]);
    const map = await crypto.getUserDeviceInfo([userId], true);
    const devices = [...(map.get(userId)?.values() ?? [])].filter((d) => !(userId === client.getUserId() && d.deviceId === client.getDeviceId()));
    const out = await Promise.all(
      devices.map(async (d) => ({
        deviceId: d.deviceId,
        name: d.displayName || d.deviceId,
        verified: !!(await crypto.getDeviceVerificationStatus(userId, d.deviceId))?.isVerified(),
      })),
    );
    setRows(out);
  };
  useEffect(() => {
    void load().catch((e) => setError(errorMessage(t, e)));
  }, [userId]);
  const verify = async (deviceId: string) => {
    setError("");
    try {
      setRequest(await client.getCrypto()!.requestDeviceVerification(userId, deviceId));
    } catch (e) {
      setError(errorMessage(t, e));
    }
  };
  return (
    <div class="member-devices" data-testid="member-devices">
      <h4>{t("verify.devices", { who: userId })}</h4>
      {rows === null && !error && <p class="muted">{t("media.loading")}</p>}
      {rows?.length === 0 && <p class="muted">{t("verify.noDevices")}</p>}
      <ul>
        {rows?.map((d) => (
          <li key={d.deviceId} class="member-device" data-testid="member-device" data-device-id={d.deviceId}>
            <span title={d.deviceId}>{d.name}</span>{" "}
            <span class={d.verified ? "tag ok" : "tag warn"} data-testid="member-device-trust">{d.verified ? t("verify.verified") : t("verify.unverified")}</span>
            {!d.verified && <button class="secondary small" onClick={() => verify(d.deviceId)}>{t("verify.start")}</button>}
          </li>
        ))}
      </ul>
      {error && <p class="error" role="alert">{error}</p>}
      {request && <VerifyDialog request={request} onClose={() => (setRequest(null), void load())} />}
    </div>
  );
}

/** useIncomingVerification shows requests other sessions send to this one. */
export function useIncomingVerification(client: MatrixClient): [VerificationRequest | null, () => void] {
  const [incoming, setIncoming] = useState<VerificationRequest | null>(null);
  useEffect(() => {
    const on = (req: VerificationRequest) => setIncoming(req);
    client.on(CryptoEvent.VerificationRequestReceived, on);
    return () => void client.off(CryptoEvent.VerificationRequestReceived, on);
  }, [client]);
  return [incoming, () => setIncoming(null)];
}
