// Room-list helpers that do not need the SDK at run time (so tests stay fast).

export interface RoomSummary {
  roomId: string;
  name: string;
  lastTs: number;
  unread: number;
  highlights: number;
  invite: boolean;
}

/** sortRooms: invites first, then the most recently active. */
export function sortRooms(rooms: RoomSummary[]): RoomSummary[] {
  return [...rooms].sort((a, b) => Number(b.invite) - Number(a.invite) || b.lastTs - a.lastTs || a.name.localeCompare(b.name));
}

/** initials gives a short avatar label for a room or user name. */
export function initials(name: string): string {
  const clean = name.replace(/^[#@!]/, "").trim();
  const ch = Array.from(clean)[0];
  return ch ? ch.toUpperCase() : "?";
}
