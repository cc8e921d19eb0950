// 1:1 calls (client-server API "Voice over IP", m.call.* events), the pure
// parts: the call screen's state as a reducer over what the SDK's MatrixCall
// reports, and the one-line timeline notices for call events. No SDK
// imports, so both are unit tested on plain objects.
import type { Translate } from "../i18n";
import type { RawEvent } from "./timeline";

/** CALL_NOTICES are the call events the timeline shows as notices. */
export const CALL_NOTICES = new Set(["m.call.invite", "m.call.hangup", "m.call.reject"]);

/** CallSummary is what the loaded events tell about one call (by call_id). */
export interface CallSummary {
  video: boolean;
  caller: string;
  invitedTs: number;
  /** answeredTs: the first m.call.answer, if the call was picked up. */
  answeredTs?: number;
  /** rejectedBy: who sent m.call.reject (spec: "Call rejection"). */
  rejectedBy?: string;
}

/**
 * isVideoInvite: an invite is a video call when its SDP offer has a video
 * section (the spec's m.call.invite carries no call type of its own).
 */
export function isVideoInvite(content: Record<string, unknown>): boolean {
  const offer = content.offer as { sdp?: unknown } | undefined;
  return typeof offer?.sdp === "string" && /^m=video /m.test(offer.sdp);
}

/** callIdOf is the call an m.call.* event belongs to ("" if none). */
export const callIdOf = (e: RawEvent) => (typeof e.content.call_id === "string" ? e.content.call_id : "");

/** callSummaries follows each call through the loaded events. */
export function callSummaries(events: RawEvent[]): Map<string, CallSummary> {
  const out = new Map<string, CallSummary>();
  for (const e of events) {
    const id = callIdOf(e);
    if (!id || e.redacted || !e.type.startsWith("m.call.")) continue;
    const s = out.get(id);
    if (e.type === "m.call.invite" && !s) out.set(id, { video: isVideoInvite(e.content), caller: e.sender, invitedTs: e.ts });
    else if (e.type === "m.call.answer" && s && s.answeredTs === undefined) s.answeredTs = e.ts;
    else if (e.type === "m.call.reject" && s && !s.rejectedBy) s.rejectedBy = e.sender;
  }
  return out;
}

/** formatDuration writes a call length as m:ss, or h:mm:ss from an hour on. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/**
 * callNotice says in one line what a call event means: who started a call,
 * how long an answered call lasted, that an unanswered one was missed, or
 * who declined it. Invites, hangups and rejections carry the same call_id
 * (spec: "Voice over IP", "Call Event Liveness").
 */
export function callNotice(t: Translate, nameOf: (userId: string) => string, e: RawEvent, s: CallSummary | undefined): string {
  switch (e.type) {
    case "m.call.invite":
      return t(isVideoInvite(e.content) ? "call.startedVideo" : "call.startedVoice", { who: nameOf(e.sender) });
    case "m.call.reject":
      return t("call.declined", { who: nameOf(e.sender) });
    case "m.call.hangup":
      if (s?.answeredTs !== undefined) return t("call.endedAfter", { duration: formatDuration(e.ts - s.answeredTs) });
      return t("call.missed");
  }
  return t("timeline.unsupported", { type: e.type });
}

/** CallPhase is what the call screen shows. */
export type CallPhase = "idle" | "ringing" | "calling" | "connecting" | "connected" | "ended";

export interface CallView {
  phase: CallPhase;
  callId?: string;
  roomId?: string;
  /** peer is the other party's user ID. */
  peer?: string;
  video: boolean;
  incoming: boolean;
  micMuted: boolean;
  cameraOff: boolean;
  /** connectedAt is when media first flowed, for the duration shown. */
  connectedAt?: number;
  /** reason is the hangup reason (spec m.call.hangup reason) once ended. */
  reason?: string;
}

export type CallAction =
  | { type: "incoming" | "outgoing"; callId: string; roomId: string; peer: string; video: boolean }
  /** sdkState is a MatrixCall state change (CallState values). */
  | { type: "sdkState"; callId: string; state: string; at: number }
  | { type: "mic"; muted: boolean }
  | { type: "camera"; off: boolean }
  | { type: "ended"; callId: string; reason?: string }
  | { type: "dismiss" };

export const idleCall: CallView = { phase: "idle", video: false, incoming: false, micMuted: false, cameraOff: false };

/** busy: a call is ringing or under way, so another one can't start. */
export const busy = (v: CallView) => v.phase !== "idle" && v.phase !== "ended";

/** phaseOf maps the SDK's CallState to what the screen shows. */
function phaseOf(state: string, incoming: boolean): CallPhase | undefined {
  switch (state) {
    case "ringing":
      return "ringing";
    case "fledgling":
    case "wait_local_media":
    case "create_offer":
    case "invite_sent":
      return incoming ? "connecting" : "calling";
    case "create_answer":
    case "connecting":
      return "connecting";
    case "connected":
      return "connected";
    case "ended":
      return "ended";
  }
  return undefined;
}

/**
 * callReducer folds SDK call events into the call screen's state. Events of
 * another call than the current one are ignored, and one call at a time is
 * shown: a new call replaces only an idle or ended screen.
 */
export function callReducer(v: CallView, a: CallAction): CallView {
  switch (a.type) {
    case "incoming":
    case "outgoing":
      if (busy(v)) return v;
      return {
        ...idleCall,
        phase: a.type === "incoming" ? "ringing" : "calling",
        callId: a.callId,
        roomId: a.roomId,
        peer: a.peer,
        video: a.video,
        incoming: a.type === "incoming",
        cameraOff: !a.video,
      };
    case "sdkState": {
      if (a.callId !== v.callId || v.phase === "ended") return v;
      const phase = phaseOf(a.state, v.incoming);
      if (!phase) return v;
      // A call that reconnects (ICE restart) keeps counting from the first connection.
      const connectedAt = phase === "connected" ? (v.connectedAt ?? a.at) : v.connectedAt;
      return { ...v, phase, connectedAt };
    }
    case "mic":
      return busy(v) ? { ...v, micMuted: a.muted } : v;
    case "camera":
      return busy(v) ? { ...v, cameraOff: a.off } : v;
    case "ended":
      if (a.callId !== v.callId || v.phase === "ended") return v;
      return { ...v, phase: "ended", reason: a.reason };
    case "dismiss":
      return v.phase === "ended" ? idleCall : v;
  }
}
