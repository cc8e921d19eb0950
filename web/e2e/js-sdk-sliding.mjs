// Simplified sliding sync (MSC4186) with matrix-js-sdk's SlidingSync class
// under Node, against a running Kabar at KABAR_URL (registration open).
// Started by the Go test TestSlidingSyncJSSDK (server/sliding_sync_jssdk_test.go).
//
// A user with two rooms starts a js-sdk client on sliding sync (the
// SlidingSyncSdk path Element Web uses): the list count and both rooms with
// their names and timelines arrive; a message sent afterwards arrives live
// in the right room. Exit code 0 and a last line {"ok":true} when it passed.
import { emit } from "./node-env.mjs";
import { createClient, RoomEvent } from "matrix-js-sdk";
import { SlidingSync, SlidingSyncEvent, SlidingSyncState } from "matrix-js-sdk/lib/sliding-sync.js";

const base = process.env.KABAR_URL;
if (!base) throw new Error("KABAR_URL is not set");
const silent = { debug() {}, info() {}, log() {}, warn() {}, error() {}, trace() {}, getChild: () => silent };

async function api(method, path, token, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

function within(ms, what, check) {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`timed out: ${what}`)), ms);
    const tick = () => {
      if (check()) {
        clearTimeout(timer);
        ok();
      } else setTimeout(tick, 50);
    };
    tick();
  });
}

async function main() {
  const name = `ssuser${Date.now() % 100000}`;
  const reg = await api("POST", "/_matrix/client/v3/register", null,
    { username: name, password: `password-${name}`, auth: { type: "m.login.dummy" } });
  const tok = reg.access_token;
  const rooms = [];
  for (const roomName of ["First", "Second"]) {
    const { room_id: id } = await api("POST", "/_matrix/client/v3/createRoom", tok, { name: roomName });
    await api("PUT", `/_matrix/client/v3/rooms/${encodeURIComponent(id)}/send/m.room.message/t${roomName}`, tok,
      { msgtype: "m.text", body: `hello ${roomName}` });
    rooms.push(id);
  }
  const versions = await api("GET", "/_matrix/client/versions");
  if (versions.unstable_features?.["org.matrix.simplified_msc3575"] !== true) {
    throw new Error("/versions does not advertise org.matrix.simplified_msc3575");
  }

  const client = createClient({
    baseUrl: base, userId: reg.user_id, deviceId: reg.device_id, accessToken: tok, logger: silent,
  });
  const list = {
    ranges: [[0, 20]], timeline_limit: 5,
    required_state: [["m.room.name", ""], ["m.room.create", ""], ["m.room.member", "$LAZY"]],
  };
  const ss = new SlidingSync(base, new Map([["all", list]]), { timeline_limit: 5, required_state: [["*", "*"]] },
    client, 5000);
  let count = -1;
  let responses = 0;
  ss.on(SlidingSyncEvent.Lifecycle, (state, resp, err) => {
    if (err) emit({ step: "sliding sync error", error: String(err) });
    if (state === SlidingSyncState.Complete && resp) {
      responses++;
      count = resp.lists?.all?.count ?? count;
    }
  });
  await client.startClient({ slidingSync: ss });

  await within(15000, "both rooms named with their messages", () => count === 2 && rooms.every((id, i) => {
    const room = client.getRoom(id);
    const body = `hello ${["First", "Second"][i]}`;
    return room?.name === ["First", "Second"][i] &&
      room.getLiveTimeline().getEvents().some((ev) => ev.getContent().body === body);
  }));
  emit({ step: "initial rooms", count, responses });

  const live = new Promise((ok) => client.on(RoomEvent.Timeline, (ev, room) => {
    if (room?.roomId === rooms[0] && ev.getContent().body === "live one") ok();
  }));
  await api("PUT", `/_matrix/client/v3/rooms/${encodeURIComponent(rooms[0])}/send/m.room.message/tlive`, tok,
    { msgtype: "m.text", body: "live one" });
  await Promise.race([live, new Promise((_, fail) => setTimeout(() => fail(new Error("timed out: live message")), 15000))]);
  emit({ step: "live message", responses });
  client.stopClient();
  ss.stop();
}

main().then(() => {
  emit({ ok: true });
  process.exit(0);
}, (err) => {
  emit({ ok: false, error: String(err?.stack ?? err) });
  process.exit(1);
});
