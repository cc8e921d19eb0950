import { describe, expect, it } from "vitest";
import { translator } from "../i18n";
import { busy, CallAction, callNotice, callReducer, callSummaries, CallView, formatDuration, idleCall, isVideoInvite } from "./calls";
import { buildItems, RawEvent } from "./timeline";

const VIDEO_SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n";
const VOICE_SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";

const ev = (id: string, type: string, sender: string, ts: number, content: Record<string, unknown> = {}): RawEvent => ({
  id, type, sender, ts, content: { version: "1", party_id: "p", ...content },
});
const invite = (id: string, call: string, ts: number, sdp = VIDEO_SDP) =>
  ev(id, "m.call.invite", "@alice:hs", ts, { call_id: call, lifetime: 60000, offer: { type: "offer", sdp } });
const names: Record<string, string> = { "@alice:hs": "Alice", "@bob:hs": "Bob" };
const nameOf = (id: string) => names[id] ?? id;

describe("call notices", () => {
  const en = translator("en");
  const id = translator("id");
  const answered = [
    invite("$i", "c1", 1000),
    ev("$cand", "m.call.candidates", "@alice:hs", 1100, { call_id: "c1", candidates: [] }),
    ev("$a", "m.call.answer", "@bob:hs", 5000, { call_id: "c1", answer: { type: "answer", sdp: VIDEO_SDP } }),
    ev("$h", "m.call.hangup", "@bob:hs", 5000 + 133_000, { call_id: "c1", reason: "user_hangup" }),
  ];
  const text = (events: RawEvent[], t = en) =>
    buildItems(events, "@alice:hs").flatMap((it) => (it.kind === "event" ? [callNotice(t, nameOf, it.ev, it.call)] : []));

  it("says who started the call, then how long it lasted; signalling stays hidden", () => {
    expect(text(answered)).toEqual(["Alice started a video call", "Call ended · 2:13"]);
    expect(text(answered, id)).toEqual(["Alice memulai panggilan video", "Panggilan berakhir · 2:13"]);
  });

  it("calls an unanswered call missed and a rejected one declined", () => {
    const missed = [invite("$i", "c2", 1000, VOICE_SDP), ev("$h", "m.call.hangup", "@alice:hs", 61_000, { call_id: "c2", reason: "invite_timeout" })];
    expect(text(missed)).toEqual(["Alice started a voice call", "Missed call"]);
    const declined = [invite("$i", "c3", 1000), ev("$r", "m.call.reject", "@bob:hs", 3000, { call_id: "c3" })];
    expect(text(declined)).toEqual(["Alice started a video call", "Bob declined the call"]);
    expect(text(declined, id)).toEqual(["Alice memulai panggilan video", "Bob menolak panggilan"]);
  });

  it("keeps calls apart by call_id and ignores answers of other calls", () => {
    const events = [
      invite("$i1", "c1", 1000),
      invite("$i2", "c2", 2000, VOICE_SDP),
      ev("$a2", "m.call.answer", "@bob:hs", 3000, { call_id: "c2" }),
      ev("$h1", "m.call.hangup", "@alice:hs", 4000, { call_id: "c1" }),
      ev("$h2", "m.call.hangup", "@bob:hs", 3000 + 3_723_000, { call_id: "c2" }),
    ];
    expect(text(events)).toEqual(["Alice started a video call", "Alice started a voice call", "Missed call", "Call ended · 1:02:03"]);
    const s = callSummaries(events);
    expect(s.get("c1")).toEqual({ video: true, caller: "@alice:hs", invitedTs: 1000 });
    expect(s.get("c2")?.answeredTs).toBe(3000);
  });

  it("does not group a message after a call notice under the notice", () => {
    const msg = ev("$m", "m.room.message", "@alice:hs", 1500, { msgtype: "m.text", body: "hi" });
    const items = buildItems([invite("$i", "c1", 1000), msg], "@alice:hs");
    expect(items.map((i) => i.kind === "event" && i.continued)).toEqual([false, false, false]);
  });

  it.each([
    [{ offer: { sdp: VIDEO_SDP } }, true],
    [{ offer: { sdp: VOICE_SDP } }, false],
    [{ offer: {} }, false],
    [{}, false],
  ])("isVideoInvite(%j) = %s", (content, want) => {
    expect(isVideoInvite(content)).toBe(want);
  });

  it.each([
    [0, "0:00"],
    [999, "0:00"],
    [61_000, "1:01"],
    [133_400, "2:13"],
    [3_600_000, "1:00:00"],
    [-5, "0:00"],
  ])("formatDuration(%d) = %s", (ms, want) => {
    expect(formatDuration(ms)).toBe(want);
  });
});

describe("callReducer", () => {
  const run = (actions: CallAction[], from: CallView = idleCall) => actions.reduce(callReducer, from);
  const out: CallAction = { type: "outgoing", callId: "c1", roomId: "!r", peer: "@bob:hs", video: true };
  const inc: CallAction = { type: "incoming", callId: "c2", roomId: "!r", peer: "@alice:hs", video: false };
  const st = (state: string, at = 0, callId = "c1"): CallAction => ({ type: "sdkState", callId, state, at });

  it("follows an outgoing call from calling to connected to ended", () => {
    const calling = run([out, st("wait_local_media"), st("create_offer"), st("invite_sent")]);
    expect([calling.phase, calling.incoming, calling.cameraOff]).toEqual(["calling", false, false]);
    const connected = run([st("connecting", 10), st("connected", 20)], calling);
    expect([connected.phase, connected.connectedAt]).toEqual(["connected", 20]);
    const ended = run([{ type: "ended", callId: "c1", reason: "user_hangup" }], connected);
    expect([ended.phase, ended.reason]).toEqual(["ended", "user_hangup"]);
    expect(run([st("connected", 99)], ended)).toBe(ended);
    expect(run([{ type: "dismiss" }], ended)).toEqual(idleCall);
  });

  it("rings for an incoming call, then connects once answered", () => {
    const ringing = run([inc, st("ringing", 0, "c2")]);
    expect([ringing.phase, ringing.incoming, ringing.video, ringing.cameraOff]).toEqual(["ringing", true, false, true]);
    const answering = run([st("wait_local_media", 5, "c2"), st("create_answer", 6, "c2")], ringing);
    expect(answering.phase).toBe("connecting");
    expect(run([st("connected", 7, "c2")], answering).phase).toBe("connected");
  });

  it("keeps the first connection time across a reconnect", () => {
    const v = run([out, st("connected", 20), st("connecting", 30), st("connected", 40)]);
    expect(v.connectedAt).toBe(20);
  });

  it("ignores other calls while busy and events of stale calls", () => {
    const calling = run([out, st("invite_sent")]);
    expect(busy(calling)).toBe(true);
    expect(run([inc], calling)).toBe(calling);
    expect(run([st("connected", 1, "other"), { type: "ended", callId: "other" }], calling)).toBe(calling);
    expect(run([{ type: "dismiss" }], calling)).toBe(calling);
    // An ended screen gives way to the next call.
    expect(run([{ type: "ended", callId: "c1" }, inc], calling).callId).toBe("c2");
  });

  it("tracks mute and camera only during a call", () => {
    const v = run([out, { type: "mic", muted: true }, { type: "camera", off: true }]);
    expect([v.micMuted, v.cameraOff]).toEqual([true, true]);
    expect(run([{ type: "mic", muted: true }])).toBe(idleCall);
    expect(run([{ type: "dismiss" }])).toBe(idleCall);
  });
});
