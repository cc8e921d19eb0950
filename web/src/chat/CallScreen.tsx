// The call screen, a lazily loaded chunk: the ringing banner of an incoming
// call (accept / decline) and the in-call view with the remote and local
// video, mute, camera, hang up and the call's duration.
import type { MatrixClient } from "matrix-js-sdk";
import { CallEvent } from "matrix-js-sdk/lib/webrtc/call";
import { useEffect, useRef, useState } from "preact/hooks";
import { useI18n } from "../app";
import type { CallControls } from "./Calls";
import { formatDuration } from "./calls";
import "./calls.css";

export function CallScreen({ controls, client }: { controls: CallControls; client: MatrixClient }) {
  const { t } = useI18n();
  const { view, call } = controls;
  const who = (view.peer && client.getRoom(view.roomId)?.getMember(view.peer)?.name) || view.peer || "";
  useRinging(view.phase === "ringing");

  if (view.phase === "ringing")
    return (
      <div class="call-incoming" role="alertdialog" aria-label={t("call.label", { who })} data-testid="call-incoming">
        <span class="call-icon" aria-hidden="true">{view.video ? "🎥" : "📞"}</span>
        <strong>{t(view.video ? "call.incomingVideo" : "call.incomingVoice", { who })}</strong>
        <div class="row">
          <button class="primary" onClick={controls.answer}>{t("call.accept")}</button>
          <button class="danger" onClick={controls.decline}>{t("call.decline")}</button>
        </div>
      </div>
    );

  return (
    <section class={view.video ? "call-view video" : "call-view"} aria-label={t("call.label", { who })} data-testid="call-view" data-phase={view.phase}>
      <Media call={call} video={view.video} who={who} />
      <p class="call-status" role="status" data-testid="call-status">
        <strong>{who}</strong> <Status view={view} who={who} />
      </p>
      {view.phase !== "ended" && (
        <div class="call-controls" role="toolbar">
          <button class="secondary" aria-pressed={view.micMuted} data-testid="call-mic" onClick={() => controls.setMic(!view.micMuted)}>
            {view.micMuted ? t("call.unmute") : t("call.mute")}
          </button>
          {view.video && (
            <button class="secondary" aria-pressed={view.cameraOff} data-testid="call-camera" onClick={() => controls.setCamera(!view.cameraOff)}>
              {view.cameraOff ? t("call.cameraOn") : t("call.cameraOff")}
            </button>
          )}
          <button class="danger" onClick={controls.hangup}>{t("call.hangup")}</button>
        </div>
      )}
    </section>
  );
}

function Status({ view, who }: { view: CallControls["view"]; who: string }) {
  const { t } = useI18n();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (view.phase !== "connected") return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [view.phase]);
  switch (view.phase) {
    case "calling":
      return <span>{t("call.calling", { who })}</span>;
    case "connected":
      return <time data-testid="call-duration">{formatDuration(Math.max(now, view.connectedAt ?? now) - (view.connectedAt ?? now))}</time>;
    case "ended":
      return <span>{t("call.ended")}</span>;
    default:
      return <span>{t("call.connecting")}</span>;
  }
}

/**
 * Media plays the remote stream (video, or audio only in a voice call) and
 * shows the local camera. Streams attach through srcObject, which the
 * Content-Security-Policy's media-src does not govern (no URL is fetched).
 */
function Media({ call, video, who }: { call: CallControls["call"]; video: boolean; who: string }) {
  const { t } = useI18n();
  const remote = useRef<HTMLVideoElement>(null);
  const local = useRef<HTMLVideoElement>(null);
  const [feeds, setFeeds] = useState(0);
  useEffect(() => {
    if (!call) return;
    const bump = () => setFeeds((n) => n + 1);
    call.on(CallEvent.FeedsChanged, bump);
    return () => void call.off(CallEvent.FeedsChanged, bump);
  }, [call]);
  useEffect(() => {
    attach(remote.current, call?.remoteUsermediaStream);
    attach(local.current, call?.localUsermediaStream);
  }, [call, feeds]);
  return (
    <div class="call-media">
      <video ref={remote} class={video ? "remote" : "remote hidden"} autoplay playsInline aria-label={t("call.remoteVideo", { who })} data-testid="remote-video" />
      {video && <video ref={local} class="local" autoplay playsInline muted aria-label={t("call.localVideo")} data-testid="local-video" />}
    </div>
  );
}

function attach(el: HTMLVideoElement | null, stream: MediaStream | undefined) {
  if (!el || el.srcObject === (stream ?? null)) return;
  el.srcObject = stream ?? null;
  if (stream) void el.play().catch(() => {});
}

/** useRinging plays a soft two-tone ring while a call rings (when audio may start). */
function useRinging(on: boolean) {
  useEffect(() => {
    if (!on || typeof AudioContext === "undefined") return;
    const ctx = new AudioContext();
    const ring = () => {
      for (const [at, hz] of [[0, 440], [0.45, 480]] as const) {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        gain.gain.value = 0.05;
        osc.frequency.value = hz;
        osc.connect(gain).connect(ctx.destination);
        osc.start(ctx.currentTime + at);
        osc.stop(ctx.currentTime + at + 0.4);
      }
    };
    ring();
    const timer = setInterval(ring, 3000);
    return () => {
      clearInterval(timer);
      void ctx.close();
    };
  }, [on]);
}
