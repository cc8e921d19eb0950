// E2EE with matrix-js-sdk and its Rust crypto (WebAssembly) under Node,
// against a running Kabar at KABAR_URL (registration open). Started by the
// Go test TestE2EEClientsJSSDK (server/e2ee_clients_jssdk_test.go).
//
// Mode "pair" (default): two js-sdk users exchange encrypted messages in a
// new encrypted room and each decrypts the other's.
// Mode "peer": one js-sdk user prints {"user_id":...} on stdout, joins the
// first encrypted room it is invited to, waits to decrypt PEER_EXPECT, then
// sends PEER_REPLY; the Go side (mautrix) does the other half.
// Exit code 0 and a last line {"ok":true} when everything passed.
import { emit } from "./node-env.mjs";
import { createClient, ClientEvent, RoomEvent, MatrixEventEvent } from "matrix-js-sdk";

const base = process.env.KABAR_URL;
if (!base) throw new Error("KABAR_URL is not set");
const timeoutMs = 20000;
const silent = { debug() {}, info() {}, log() {}, warn() {}, error() {}, trace() {}, getChild: () => silent };

async function register(username) {
  const res = await fetch(`${base}/_matrix/client/v3/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: `password-${username}`, auth: { type: "m.login.dummy" } }),
  });
  if (!res.ok) throw new Error(`register ${username}: ${res.status} ${await res.text()}`);
  return res.json();
}

// startUser registers a user and starts a js-sdk client with Rust crypto
// kept in memory (no IndexedDB under Node).
async function startUser(username) {
  const reg = await register(`${username}${Date.now() % 100000}`);
  const client = createClient({
    baseUrl: base, userId: reg.user_id, deviceId: reg.device_id, accessToken: reg.access_token, logger: silent,
  });
  await client.initRustCrypto({ useIndexedDB: false });
  const ready = new Promise((ok) => client.once(ClientEvent.Sync, (state) => state === "PREPARED" && ok()));
  await client.startClient({ initialSyncLimit: 20 });
  await ready;
  return client;
}

function withTimeout(promise, what) {
  let timer;
  const limit = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`timed out: ${what}`)), timeoutMs);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

// decrypted resolves when client has decrypted an m.room.message with body.
function decrypted(client, body) {
  return withTimeout(new Promise((ok, fail) => {
    const check = (ev) => {
      if (ev.isEncrypted() && !ev.isDecryptionFailure() && ev.getContent().body === body) ok(ev);
    };
    client.on(MatrixEventEvent.Decrypted, check);
    client.on(RoomEvent.Timeline, (ev) => client.decryptEventIfNeeded(ev).then(() => check(ev), fail));
  }), `${client.getUserId()} decrypts "${body}"`);
}

// joinWhenInvited joins the first room client is invited to.
function joinWhenInvited(client) {
  return withTimeout(new Promise((ok, fail) => {
    const onMember = (ev, member) => {
      if (member.userId === client.getUserId() && member.membership === "invite") {
        client.off("RoomMember.membership", onMember);
        client.joinRoom(member.roomId).then(ok, fail);
      }
    };
    client.on("RoomMember.membership", onMember);
  }), `${client.getUserId()} gets an invite`);
}

async function joined(client, roomId, userId) {
  await withTimeout((async () => {
    while (client.getRoom(roomId)?.getMember(userId)?.membership !== "join") {
      await new Promise((r) => setTimeout(r, 50));
    }
  })(), `${client.getUserId()} sees ${userId} join`);
}

async function pair() {
  const alice = await startUser("jsalice");
  const bob = await startUser("jsbob");
  const bobJoins = joinWhenInvited(bob);
  const { room_id: roomId } = await alice.createRoom({
    preset: "private_chat", invite: [bob.getUserId()],
    initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
  });
  await bobJoins;
  await joined(alice, roomId, bob.getUserId());
  const bobGets = decrypted(bob, "hello bob from js-sdk");
  await alice.sendMessage(roomId, { msgtype: "m.text", body: "hello bob from js-sdk" });
  await bobGets;
  emit({ step: "bob decrypted alice" });
  const aliceGets = decrypted(alice, "hello alice from js-sdk");
  await bob.sendMessage(roomId, { msgtype: "m.text", body: "hello alice from js-sdk" });
  await aliceGets;
  emit({ step: "alice decrypted bob" });
  return [alice, bob];
}

async function peer() {
  const me = await startUser("jspeer");
  emit({ user_id: me.getUserId(), device_id: me.getDeviceId() });
  const gets = decrypted(me, process.env.PEER_EXPECT);
  const roomId = (await joinWhenInvited(me)).roomId;
  await gets;
  emit({ step: "js-sdk decrypted mautrix" });
  await me.sendMessage(roomId, { msgtype: "m.text", body: process.env.PEER_REPLY });
  return [me];
}

try {
  const clients = await (process.env.MODE === "peer" ? peer() : pair());
  for (const c of clients) c.stopClient();
  emit({ ok: true });
  process.exit(0);
} catch (err) {
  emit({ ok: false, error: String(err?.stack ?? err) });
  process.exit(1);
}
