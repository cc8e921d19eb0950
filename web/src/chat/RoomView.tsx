// One room: header, the timeline with back-pagination, typing line and the
// composer; invites show an accept/decline screen instead.
import { Direction, EventType, MatrixClient, MatrixEvent, Room, RoomMemberEvent } from "matrix-js-sdk";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { useI18n } from "../app";
import { errorMessage } from "../errors";
import { Composer, Draft } from "./Composer";
import { nameOf, toRaw } from "./events";
import { Members } from "./Members";
import { MessageRow, DaySeparator } from "./Message";
import { RoomSettings } from "./RoomSettings";
import { buildItems } from "./timeline";
import { UploadList, useUploads } from "./Uploads";

interface Props {
  client: MatrixClient;
  room: Room;
  tick: number;
  onBack: () => void;
  onLeft: () => void;
}

export function RoomView({ client, room, tick, onBack, onLeft }: Props) {
  const { t } = useI18n();
  const [panel, setPanel] = useState<"none" | "members" | "settings">("none");
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
        <button class="secondary" aria-pressed={panel === "members"} onClick={() => setPanel(panel === "members" ? "none" : "members")}>{t("room.members")}</button>
        <button class="secondary" aria-pressed={panel === "settings"} onClick={() => setPanel(panel === "settings" ? "none" : "settings")}>{t("room.settings")}</button>
        <button class="danger" onClick={leave}>{t("room.leave")}</button>
      </header>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="room-body">
        <Timeline key={room.roomId} client={client} room={room} tick={tick} />
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

function Timeline({ client, room, tick }: { client: MatrixClient; room: Room; tick: number }) {
  const { t } = useI18n();
  const me = client.getUserId()!;
  const [draft, setDraft] = useState<Draft>({ kind: "new" });
  const [loading, setLoading] = useState(false);
  const [pageError, setPageError] = useState("");
  const [typingTick, setTypingTick] = useState(0);
  const scroller = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  const anchor = useRef<number | null>(null);
  const uploads = useUploads(client, room, () => (stick.current = true));
  const [dropping, setDropping] = useState(false);

  const live = room.getLiveTimeline();
  const sdkEvents = live.getEvents();
  const byId = useMemo(() => new Map(sdkEvents.map((e) => [e.getId() ?? "", e])), [tick, sdkEvents.length]);
  const items = useMemo(() => buildItems(sdkEvents.map(toRaw), me), [tick, sdkEvents.length, room.roomId]);
  const atStart = live.getPaginationToken(Direction.Backward) === null || sdkEvents.some((e) => e.getType() === EventType.RoomCreate);

  const loadEarlier = async () => {
    if (loading || atStart) return;
    setLoading(true);
    setPageError("");
    const el = scroller.current;
    anchor.current = el ? el.scrollHeight - el.scrollTop : null;
    try {
      await client.scrollback(room, 40);
    } catch (e) {
      setPageError(errorMessage(t, e));
    } finally {
      setLoading(false);
    }
  };

  // Keep the view pinned to the newest message, or keep the reader's place
  // when older messages are added above.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (anchor.current !== null) {
      el.scrollTop = el.scrollHeight - anchor.current;
      anchor.current = null;
    } else if (stick.current) el.scrollTop = el.scrollHeight;
    // A short history that does not fill the view: fetch more right away.
    if (!atStart && !loading && el.scrollHeight <= el.clientHeight + 40) void loadEarlier();
  }, [items, loading]);

  // Read receipt for the newest event once it is on screen.
  useEffect(() => {
    const last = [...sdkEvents].reverse().find((e) => e.getId() && !e.status && e.getSender() !== me);
    if (last && document.visibilityState === "visible" && !room.hasUserReadEvent(me, last.getId()!))
      void client.sendReadReceipt(last).catch((e) => console.warn("kabar: read receipt failed", e));
  }, [items]);

  useEffect(() => {
    const bump = () => setTypingTick((n) => n + 1);
    client.on(RoomMemberEvent.Typing, bump);
    return () => void client.off(RoomMemberEvent.Typing, bump);
  }, [client]);

  const onScroll = () => {
    const el = scroller.current!;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
    if (el.scrollTop < 120) void loadEarlier();
  };
  const typing = useMemo(
    () => room.getMembers().filter((m) => m.typing && m.userId !== me).map((m) => m.name),
    [typingTick, room.roomId],
  );
  const findEvent = (id: string): MatrixEvent | undefined => byId.get(id) ?? room.findEventById(id);

  return (
    <div
      class={dropping ? "timeline-wrap dropping" : "timeline-wrap"}
      onDragOver={(e) => {
        if (!e.dataTransfer?.types.includes("Files")) return;
        e.preventDefault();
        setDropping(true);
      }}
      onDragLeave={(e) => e.currentTarget === e.target && setDropping(false)}
      onDrop={(e) => {
        setDropping(false);
        const files = [...(e.dataTransfer?.files ?? [])];
        if (!files.length) return;
        e.preventDefault();
        uploads.start(files);
      }}
    >
      <ol class="timeline" ref={scroller} onScroll={onScroll} aria-label={t("timeline.label", { room: room.name })} data-testid="timeline">
        <li class="history-edge muted" data-testid={atStart ? "history-start" : "history-more"}>
          {atStart ? t("timeline.start") : loading ? t("timeline.loading") : <button class="link" onClick={loadEarlier}>{t("timeline.loadEarlier")}</button>}
          {pageError && <span class="error"> {pageError}</span>}
        </li>
        {items.map((it) =>
          it.kind === "day" ? (
            <DaySeparator key={it.key} day={it.day} />
          ) : (
            <MessageRow key={it.key} client={client} room={room} item={it} sdk={byId.get(it.ev.id)} findEvent={findEvent} onDraft={setDraft} />
          ),
        )}
      </ol>
      <p class="typing muted" aria-live="polite" data-testid="typing">
        {typing.length === 1 ? t("typing.one", { who: typing[0] }) : typing.length > 1 ? t("typing.many", { who: typing.join(", ") }) : "\u00a0"}
      </p>
      <UploadList items={uploads.items} onCancel={uploads.cancel} />
      <Composer
        client={client}
        room={room}
        draft={draft}
        onDraft={setDraft}
        replyName={(id) => nameOf(room, findEvent(id)?.getSender() ?? "")}
        onSent={() => (stick.current = true)}
        onFiles={uploads.start}
      />
    </div>
  );
}
