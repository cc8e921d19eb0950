// The timeline of one room: virtualised (only rows near the viewport are in
// the DOM), with back-pagination, the read marker and "jump to first
// unread", typing line, uploads and the composer.
import { Direction, EventType, MatrixClient, MatrixEvent, Room, RoomMemberEvent } from "matrix-js-sdk";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { useI18n } from "../app";
import { errorMessage } from "../errors";
import { Composer, Draft } from "./Composer";
import { nameOf, toRaw } from "./events";
import { DaySeparator, MessageRow } from "./Message";
import { buildItems, firstUnreadIndex, Item } from "./timeline";
import { UploadList, useUploads } from "./Uploads";
import { offsetsOf, rowAt, windowOf } from "./virtual";

/** Rows rendered beyond the viewport on each side, in pixels. */
const OVERSCAN = 900;
/** Events asked for per back-pagination request. */
const PAGE = 100;
const estimate = (it: Item) => (it.kind === "day" ? 36 : it.continued ? 30 : 58);

interface Props {
  client: MatrixClient;
  room: Room;
  tick: number;
  onThread: (rootId: string) => void;
}

/** readMarkerOf: the fully read marker, else the read receipt (spec: "Fully read markers", "Receipts"). */
function readMarkerOf(room: Room, me: string): string | undefined {
  const fr = room.getAccountData("m.fully_read")?.getContent().event_id;
  return typeof fr === "string" ? fr : (room.getEventReadUpTo(me) ?? undefined);
}

export function Timeline({ client, room, tick, onThread }: Props) {
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
  // The read marker as it was when the room opened: what was unread then
  // stays marked while the user reads, even though receipts move on.
  const marker = useMemo(() => readMarkerOf(room, me), [room.roomId]);
  const [unreadDismissed, setUnreadDismissed] = useState(false);
  const heights = useRef(new Map<string, number>());
  const [measured, setMeasured] = useState(0);
  const [win, setWin] = useState({ top: 0, height: 800 });

  const live = room.getLiveTimeline();
  const sdkEvents = live.getEvents();
  const byId = useMemo(() => new Map(sdkEvents.map((e) => [e.getId() ?? "", e])), [tick, sdkEvents.length]);
  const raws = useMemo(() => sdkEvents.map(toRaw), [tick, sdkEvents.length, room.roomId]);
  const items = useMemo(() => buildItems(raws, me), [raws]);
  const offsets = useMemo(() => offsetsOf(items.length, (i) => heights.current.get(items[i].key) ?? estimate(items[i])), [items, measured]);
  const atStart = live.getPaginationToken(Direction.Backward) === null || sdkEvents.some((e) => e.getType() === EventType.RoomCreate);
  const unreadAt = firstUnreadIndex(raws, items, marker, me);
  // A marker older than the loaded history means the unread part starts
  // further back than what is loaded.
  const unreadBeyond = useMemo(() => !!marker && !raws.some((e) => e.id === marker) && raws.some((e) => e.sender !== me && e.stateKey === undefined), [room.roomId]);
  const base = () => (scroller.current?.firstElementChild as HTMLElement | null)?.offsetHeight ?? 0;
  const [start, end] = windowOf(offsets, win.top - base(), win.height, OVERSCAN);

  const loadEarlier = async (): Promise<void> => {
    if (loading || atStart) return;
    setLoading(true);
    setPageError("");
    const el = scroller.current;
    anchor.current = el ? el.scrollHeight - el.scrollTop : null;
    try {
      await client.scrollback(room, PAGE);
    } catch (e) {
      setPageError(errorMessage(t, e));
    } finally {
      setLoading(false);
    }
  };

  /** sync moves the rendered window when the viewport left its overscan. */
  const sync = () => {
    const el = scroller.current;
    if (!el) return;
    const top = el.scrollTop;
    const height = el.clientHeight;
    if (Math.abs(top - win.top) > OVERSCAN / 3 || height !== win.height) setWin({ top, height });
  };

  // Measure the rendered rows; rows above the viewport that turn out taller
  // or shorter than estimated shift the scroll position so nothing jumps.
  // Then keep the view pinned to the newest message, or keep the reader's
  // place when older messages are added above.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    let changed = false;
    let above = 0;
    const firstVisible = rowAt(offsets, el.scrollTop - base());
    for (const node of el.querySelectorAll<HTMLElement>(":scope > [data-row]")) {
      const i = Number(node.dataset.row);
      const key = items[i]?.key;
      if (key === undefined) continue;
      const h = node.offsetHeight;
      const old = heights.current.get(key) ?? estimate(items[i]);
      if (h !== old) {
        heights.current.set(key, h);
        changed = true;
        if (i < firstVisible) above += h - old;
      }
    }
    // The anchor waits for the page to land (loading ends after the SDK
    // added the events), not for the render that shows "Loading…".
    if (anchor.current !== null && !loading) {
      el.scrollTop = el.scrollHeight - anchor.current;
      anchor.current = null;
    } else if (stick.current) el.scrollTop = el.scrollHeight;
    else if (above) el.scrollTop += above;
    if (changed) setMeasured((n) => n + 1);
    sync();
    // A short history that does not fill the view: fetch more right away.
    if (!atStart && !loading && el.scrollHeight <= el.clientHeight + 40) void loadEarlier();
  });

  // Read receipt and fully read marker for the newest event once it is on screen.
  useEffect(() => {
    const last = [...sdkEvents].reverse().find((e) => e.getId() && !e.status && e.getSender() !== me);
    if (last && document.visibilityState === "visible" && !room.hasUserReadEvent(me, last.getId()!))
      void client.setRoomReadMarkers(room.roomId, last.getId()!, last).catch((e) => console.warn("kabar: read marker failed", e));
  }, [items]);

  useEffect(() => {
    const bump = () => setTypingTick((n) => n + 1);
    client.on(RoomMemberEvent.Typing, bump);
    return () => void client.off(RoomMemberEvent.Typing, bump);
  }, [client]);

  const onScroll = () => {
    const el = scroller.current!;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
    sync();
    if (el.scrollTop < 600) void loadEarlier();
  };

  /** jumpToUnread scrolls to the first unread message, paging back to it if needed. */
  const jumpToUnread = async () => {
    const loaded = () => room.getLiveTimeline().getEvents().some((e) => e.getId() === marker);
    for (let i = 0; i < 30 && !loaded(); i++) {
      if (room.getLiveTimeline().getPaginationToken(Direction.Backward) === null) break;
      if (!(await client.scrollback(room, PAGE).then(() => true, () => false))) break;
    }
    setUnreadDismissed(true);
    setJumpTo(marker ?? null);
  };
  const [jumpTo, setJumpTo] = useState<string | null>(null);
  useLayoutEffect(() => {
    if (jumpTo === null || unreadAt < 0) return;
    const el = scroller.current!;
    stick.current = false;
    el.scrollTop = Math.max(0, base() + offsets[unreadAt] - 80);
    setJumpTo(null);
    setWin({ top: el.scrollTop, height: el.clientHeight });
  }, [jumpTo, unreadAt]);

  const typing = useMemo(
    () => room.getMembers().filter((m) => m.typing && m.userId !== me).map((m) => m.name),
    [typingTick, room.roomId],
  );
  const findEvent = (id: string): MatrixEvent | undefined => byId.get(id) ?? room.findEventById(id);
  const unreadAbove = !unreadDismissed && !!marker && (unreadAt < 0 ? unreadBeyond : offsets[unreadAt] + base() < win.top);

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
      {unreadAbove && (
        <div class="unread-bar" role="status" data-testid="unread-bar">
          <span>{t("unread.new")}</span>
          <button class="link" onClick={jumpToUnread}>{t("unread.jump")}</button>
          <button class="link" onClick={() => setUnreadDismissed(true)}>{t("unread.dismiss")}</button>
        </div>
      )}
      <ol class="timeline virtual" ref={scroller} onScroll={onScroll} aria-label={t("timeline.label", { room: room.name })} data-testid="timeline"
        data-rows={items.length} data-rendered={end - start}>
        <li class="history-edge muted" data-testid={atStart ? "history-start" : "history-more"}>
          {atStart ? t("timeline.start") : loading ? t("timeline.loading") : <button class="link" onClick={loadEarlier}>{t("timeline.loadEarlier")}</button>}
          {pageError && <span class="error"> {pageError}</span>}
        </li>
        <li class="spacer" aria-hidden="true" style={{ height: `${offsets[start]}px` }} />
        {items.slice(start, end).map((it, j) =>
          it.kind === "day" ? (
            <DaySeparator key={it.key} day={it.day} row={start + j} />
          ) : (
            <MessageRow key={it.key} row={start + j} client={client} room={room} item={it} sdk={byId.get(it.ev.id)} findEvent={findEvent}
              onDraft={setDraft} onThread={onThread} firstUnread={start + j === unreadAt} />
          ),
        )}
        <li class="spacer" aria-hidden="true" style={{ height: `${offsets[items.length] - offsets[end]}px` }} />
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
