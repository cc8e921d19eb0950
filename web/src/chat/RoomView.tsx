// One room: header, the timeline with back-pagination, typing line and the
// composer; invites show an accept/decline screen instead.
import { EventType, MatrixClient, Room } from "matrix-js-sdk";
import { useEffect, useState } from "preact/hooks";
import { useI18n } from "../app";
import { errorMessage } from "../errors";
import { Members } from "./Members";
import { RoomSettings } from "./RoomSettings";
import { ThreadList, ThreadPanel } from "./Thread";
import { Timeline } from "./Timeline";

interface Props {
  client: MatrixClient;
  room: Room;
  tick: number;
  onBack: () => void;
  onLeft: () => void;
  /** onCall starts a voice or video call; set in a DM that can be called. */
  onCall?: (video: boolean) => void;
  /** callBusy: a call is under way, so no other can start. */
  callBusy?: boolean;
}

export function RoomView({ client, room, tick, onBack, onLeft, onCall, callBusy }: Props) {
  const { t } = useI18n();
  const [panel, setPanel] = useState<"none" | "members" | "settings" | "threads" | `thread:${string}`>("none");
  const [error, setError] = useState("");
  const encrypted = room.hasEncryptionStateEvent();
  useEffect(() => setPanel("none"), [room.roomId]);

  if (room.getMyMembership() === "invite") return <InviteView client={client} room={room} onBack={onBack} onLeft={onLeft} />;
  const topic = room.currentState.getStateEvents(EventType.RoomTopic, "")?.getContent().topic as string | undefined;
  const leave = async () => {
    if (!confirm(t("room.leaveConfirm", { room: room.name }))) return;
    try {
      await client.leave(room.roomId);
      onLeft();
    } catch (e) {
      setError(errorMessage(t, e));
    }
  };
  return (
    <section class="room-view" aria-label={room.name}>
      <header class="room-head">
        <button class="back secondary" onClick={onBack} aria-label={t("main.back")}>‹</button>
        <div class="room-title">
          <h2 data-testid="room-name">
            {room.name}
            {encrypted && <span class="lock" title={t("room.encrypted")} aria-label={t("room.encrypted")} data-testid="room-encrypted"> 🔒</span>}
          </h2>
          {topic && <p class="muted topic">{topic}</p>}
        </div>
        {onCall && (
          <>
            <button class="secondary" disabled={callBusy} onClick={() => onCall(false)} aria-label={t("call.voice")} title={t("call.voice")} data-testid="call-voice">📞</button>
            <button class="secondary" disabled={callBusy} onClick={() => onCall(true)} aria-label={t("call.video")} title={t("call.video")} data-testid="call-video">🎥</button>
          </>
        )}
        <button class="secondary" aria-pressed={panel === "threads" || panel.startsWith("thread:")} onClick={() => setPanel(panel === "threads" ? "none" : "threads")}>{t("thread.list")}</button>
        <button class="secondary" aria-pressed={panel === "members"} onClick={() => setPanel(panel === "members" ? "none" : "members")}>{t("room.members")}</button>
        <button class="secondary" aria-pressed={panel === "settings"} onClick={() => setPanel(panel === "settings" ? "none" : "settings")}>{t("room.settings")}</button>
        <button class="danger" onClick={leave}>{t("room.leave")}</button>
      </header>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="room-body">
        <Timeline key={room.roomId} client={client} room={room} tick={tick} onThread={(id) => setPanel(`thread:${id}`)} />
        {panel === "threads" && <ThreadList client={client} room={room} tick={tick} onClose={() => setPanel("none")} onOpen={(id) => setPanel(`thread:${id}`)} />}
        {panel.startsWith("thread:") && (
          <ThreadPanel key={panel} client={client} room={room} tick={tick} rootId={panel.slice(7)} onClose={() => setPanel("threads")} />
        )}
        {panel === "members" && <Members client={client} room={room} onClose={() => setPanel("none")} />}
        {panel === "settings" && <RoomSettings client={client} room={room} onClose={() => setPanel("none")} />}
      </div>
    </section>
  );
}

function InviteView({ client, room, onBack, onLeft }: { client: MatrixClient; room: Room; onBack: () => void; onLeft: () => void }) {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const inviter = room.getMember(client.getUserId()!)?.events.member?.getSender();
  const act = async (accept: boolean) => {
    setBusy(true);
    setError("");
    try {
      if (accept) await client.joinRoom(room.roomId);
      else {
        await client.leave(room.roomId);
        onLeft();
      }
    } catch (e) {
      setError(errorMessage(t, e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="room-view invite" aria-label={room.name}>
      <header class="room-head">
        <button class="back secondary" onClick={onBack} aria-label={t("main.back")}>‹</button>
        <h2>{room.name}</h2>
      </header>
      <div class="placeholder" data-testid="invite">
        <h2>{t("invite.title", { room: room.name })}</h2>
        {inviter && <p class="muted">{t("invite.from", { who: inviter })}</p>}
        <div class="row center">
          <button class="primary" disabled={busy} onClick={() => act(true)}>{t("invite.accept")}</button>
          <button class="secondary" disabled={busy} onClick={() => act(false)}>{t("invite.decline")}</button>
        </div>
        {error && <p class="error" role="alert">{error}</p>}
      </div>
    </section>
  );
}
