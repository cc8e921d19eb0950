// Browser notifications for mentions and direct messages. Permission is
// only ever requested from a user action (the button in Settings).
import { MatrixClient, MatrixEvent, MatrixEventEvent, Room, RoomEvent } from "matrix-js-sdk";

export type Permission = NotificationPermission | "unsupported";

export function notificationsAllowed(): Permission {
  return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
}

export async function requestNotifications(): Promise<Permission> {
  if (typeof Notification === "undefined") return "unsupported";
  return Notification.requestPermission();
}

export interface Candidate {
  type: string;
  sender: string;
  body: unknown;
  mentions?: { user_ids?: unknown; room?: unknown };
  memberCount: number;
  /** focused: the user is looking at this room right now. */
  focused: boolean;
}

/**
 * shouldNotify: a message from someone else, in a room the user isn't
 * looking at, that is a DM (two members) or mentions the user: by
 * m.mentions (spec "User and room mentions") or, for older clients, by
 * user ID or display name in the body.
 */
export function shouldNotify(c: Candidate, me: string, myName: string): boolean {
  if (c.type !== "m.room.message" || c.sender === me || c.focused || typeof c.body !== "string") return false;
  if (c.memberCount <= 2) return true;
  const ids = c.mentions?.user_ids;
  if (Array.isArray(ids)) return ids.includes(me);
  const body = c.body.toLowerCase();
  return body.includes(me.toLowerCase()) || (myName.length > 1 && new RegExp(`(^|\\W)${escape(myName.toLowerCase())}($|\\W)`).test(body));
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * watchNotifications shows a notification for each qualifying live event
 * (after decryption for encrypted ones); clicking it opens the room.
 * It returns a function that stops watching.
 */
export function watchNotifications(client: MatrixClient, selected: () => string | null, open: (roomId: string) => void): () => void {
  const seen = new Set<string>();
  const consider = (ev: MatrixEvent, room: Room | undefined) => {
    if (!room || notificationsAllowed() !== "granted" || ev.isDecryptionFailure() || ev.isBeingDecrypted()) return;
    const id = ev.getId();
    if (!id || seen.has(id)) return;
    const me = client.getUserId()!;
    const c = ev.getContent();
    const cand: Candidate = {
      type: ev.getType(),
      sender: ev.getSender() ?? "",
      body: c.body,
      mentions: c["m.mentions"],
      memberCount: room.getJoinedMemberCount(),
      focused: selected() === room.roomId && document.visibilityState === "visible" && document.hasFocus(),
    };
    if (!shouldNotify(cand, me, room.getMember(me)?.name ?? "")) return;
    seen.add(id);
    const who = room.getMember(cand.sender)?.name ?? cand.sender;
    const n = new Notification(room.getJoinedMemberCount() <= 2 ? who : `${who} · ${room.name}`, { body: String(c.body).slice(0, 200), tag: id });
    n.onclick = () => {
      window.focus();
      open(room.roomId);
      n.close();
    };
  };
  const onTimeline = (ev: MatrixEvent, room: Room | undefined, toStart: boolean | undefined, _removed: boolean, data: { liveEvent?: boolean }) => {
    if (!toStart && data?.liveEvent) consider(ev, room);
  };
  const onDecrypted = (ev: MatrixEvent) => {
    // Only recent events: decryption also happens for scrolled-back history.
    if (Date.now() - ev.getTs() < 60_000) consider(ev, client.getRoom(ev.getRoomId()) ?? undefined);
  };
  client.on(RoomEvent.Timeline, onTimeline);
  client.on(MatrixEventEvent.Decrypted, onDecrypted);
  return () => {
    client.off(RoomEvent.Timeline, onTimeline);
    client.off(MatrixEventEvent.Decrypted, onDecrypted);
  };
}
