// Power checks that know about room version 12 (client-server API, "Room
// versions", v12: the room's creators — the create event's sender and
// content.additional_creators — have unlimited power and are not listed in
// m.room.power_levels). matrix-js-sdk's own checks read only power_levels,
// so a v12 creator would look powerless to them.
import { EventType, Room } from "matrix-js-sdk";

/** creatorHasFullPower: room versions from 12 give creators infinite power. */
export function creatorHasFullPower(roomVersion: string): boolean {
  const v = Number(roomVersion);
  return Number.isFinite(v) && v >= 12;
}

/** isPrivilegedCreator: userId is a creator of a room version 12+ room. */
export function isPrivilegedCreator(room: Room, userId: string): boolean {
  const create = room.currentState.getStateEvents(EventType.RoomCreate, "");
  if (!create || !creatorHasFullPower(room.getVersion())) return false;
  const extra = create.getContent().additional_creators;
  return create.getSender() === userId || (Array.isArray(extra) && extra.includes(userId));
}

/** canSendState: the SDK check plus the v12 creator rule. */
export function canSendState(room: Room, userId: string, type: string): boolean {
  return isPrivilegedCreator(room, userId) || room.currentState.maySendStateEvent(type, userId);
}

/**
 * canModerate: may userId redact others' events, kick or ban ("redact",
 * "kick", "ban" levels of m.room.power_levels), counting v12 creators.
 */
export function canModerate(room: Room, userId: string, action: "redact" | "kick" | "ban"): boolean {
  if (isPrivilegedCreator(room, userId)) return true;
  return room.currentState.hasSufficientPowerLevelFor(action, room.getMember(userId)?.powerLevel ?? 0);
}

/**
 * outranks: may actor kick or ban target. A v12 creator outranks everyone
 * but other creators; nobody outranks a creator (eventauth rules, v12).
 */
export function outranks(room: Room, actor: string, target: string): boolean {
  if (isPrivilegedCreator(room, target)) return false;
  if (isPrivilegedCreator(room, actor)) return true;
  return (room.getMember(target)?.powerLevel ?? 0) < (room.getMember(actor)?.powerLevel ?? 0);
}
