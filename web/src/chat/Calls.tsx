// 1:1 voice and video calls over matrix-js-sdk's legacy VoIP (MatrixCall,
// m.call.* room events; client-server API "Voice over IP"). This part is
// loaded with the chat: it listens for incoming calls, places calls and
// keeps the call screen's state. The screen itself (CallScreen.tsx) is a
// separate chunk, loaded when the first call rings or is placed.
import { MatrixClient, Room } from "matrix-js-sdk";
import { CallErrorCode, CallEvent, CallType, createNewMatrixCall, MatrixCall } from "matrix-js-sdk/lib/webrtc/call";
import { CallEventHandlerEvent } from "matrix-js-sdk/lib/webrtc/callEventHandler";
import type { ComponentType } from "preact";
import { useEffect, useReducer, useRef, useState } from "preact/hooks";
import { useI18n } from "../app";
import type { MessageKey } from "../i18n";
import { busy, callReducer, CallView, idleCall } from "./calls";

/** ENDED_SHOWN_MS is how long the ended call screen stays before it closes. */
const ENDED_SHOWN_MS = 2500;

export interface CallControls {
  view: CallView;
  call: MatrixCall | null;
  /** error explains why the last call could not start or failed. */
  error: MessageKey | "";
  /** canCall: this browser has WebRTC (the SDK's supportsVoip). */
  canCall: boolean;
  place: (room: Room, video: boolean) => void;
  answer: () => void;
  decline: () => void;
  hangup: () => void;
  setMic: (muted: boolean) => void;
  setCamera: (off: boolean) => void;
  clearError: () => void;
}

/** isDM: calls are offered in rooms of exactly two joined members. */
export const isDM = (room: Room) => room.getJoinedMemberCount() === 2;

/** peerOf is the other joined member of a DM, when the members are loaded. */
function peerOf(client: MatrixClient, room: Room): string | undefined {
  return room.getJoinedMembers().find((m) => m.userId !== client.getUserId())?.userId;
}

export function useCall(client: MatrixClient): CallControls {
  const [view, dispatch] = useReducer(callReducer, idleCall);
  const [error, setError] = useState<MessageKey | "">("");
  const callRef = useRef<MatrixCall | null>(null);
  const viewRef = useRef(view);
  viewRef.current = view;

  const bind = (call: MatrixCall, incoming: boolean, peer: string, video: boolean) => {
    const callId = call.callId;
    callRef.current = call;
    setError("");
    dispatch({ type: incoming ? "incoming" : "outgoing", callId, roomId: call.roomId ?? "", peer, video });
    call.on(CallEvent.State, (state) => dispatch({ type: "sdkState", callId, state, at: Date.now() }));
    call.on(CallEvent.Hangup, () => dispatch({ type: "ended", callId, reason: call.hangupReason }));
    // MatrixCall is an EventEmitter: an "error" without a listener would throw.
    call.on(CallEvent.Error, (err) => {
      console.warn("kabar: call error", err.code, err.message);
      setError(err.code === CallErrorCode.NoUserMedia ? "call.noMedia" : "call.failed");
    });
  };

  useEffect(() => {
    const onIncoming = (call: MatrixCall) => {
      // While busy the new call is left ringing: another of our sessions may take it.
      if (busy(viewRef.current)) return;
      bind(call, true, call.getOpponentMember()?.userId ?? "", call.type === CallType.Video);
    };
    client.on(CallEventHandlerEvent.Incoming, onIncoming);
    return () => {
      client.off(CallEventHandlerEvent.Incoming, onIncoming);
      callRef.current?.hangup(CallErrorCode.UserHangup, false);
    };
  }, [client]);

  useEffect(() => {
    if (view.phase !== "ended") return;
    const timer = setTimeout(() => {
      callRef.current = null;
      dispatch({ type: "dismiss" });
    }, ENDED_SHOWN_MS);
    return () => clearTimeout(timer);
  }, [view.phase, view.callId]);

  const withCall = (f: (c: MatrixCall) => unknown) => () => {
    const c = callRef.current;
    if (c) void Promise.resolve(f(c)).catch((e) => console.warn("kabar: call action failed", e));
  };

  return {
    view,
    call: callRef.current,
    error,
    canCall: client.supportsVoip(),
    place: (room, video) => {
      if (busy(viewRef.current)) return setError("call.busy");
      // getUserMedia exists only in a secure context (HTTPS or localhost).
      if (!navigator.mediaDevices?.getUserMedia) return setError("call.insecure");
      const peer = peerOf(client, room);
      const call = createNewMatrixCall(client, room.roomId, { invitee: peer });
      if (!call) return setError("call.failed");
      bind(call, false, peer ?? room.guessDMUserId(), video);
      void (video ? call.placeVideoCall() : call.placeVoiceCall()).catch((e) => console.warn("kabar: placing the call failed", e));
    },
    answer: withCall((c) => c.answer()),
    decline: withCall((c) => c.reject()),
    hangup: withCall((c) => c.hangup(CallErrorCode.UserHangup, false)),
    // The screen shows what the SDK reports after the change, not what was asked.
    setMic: (muted) =>
      withCall(async (c) => {
        await c.setMicrophoneMuted(muted);
        dispatch({ type: "mic", muted: c.isMicrophoneMuted() });
      })(),
    setCamera: (off) =>
      withCall(async (c) => {
        await c.setLocalVideoMuted(off);
        dispatch({ type: "camera", off: c.isLocalVideoMuted() });
      })(),
    clearError: () => setError(""),
  };
}

type Screen = ComponentType<{ controls: CallControls; client: MatrixClient }>;

/** CallHost shows the call screen (loaded on first use) and call errors. */
export function CallHost({ controls, client }: { controls: CallControls; client: MatrixClient }) {
  const { t } = useI18n();
  const [screen, setScreen] = useState<{ C: Screen } | null>(null);
  const active = controls.view.phase !== "idle";
  useEffect(() => {
    if (active && !screen)
      void import("./CallScreen").then(
        (m) => setScreen({ C: m.CallScreen }),
        (e) => console.warn("kabar: loading the call screen failed", e),
      );
  }, [active]);
  return (
    <>
      {controls.error && (
        <div class="banner error" role="alert" data-testid="call-error">
          <span>{t(controls.error)}</span>
          <button class="link" onClick={controls.clearError}>{t("verify.close")}</button>
        </div>
      )}
      {active && screen && <screen.C controls={controls} client={client} />}
    </>
  );
}
