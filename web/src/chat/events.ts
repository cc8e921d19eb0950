// Bridges matrix-js-sdk events to the plain RawEvent of timeline.ts and
// describes events that are not messages (membership, names, encryption).
import { MatrixEvent, Room } from "matrix-js-sdk";
import { DecryptionFailureCode } from "matrix-js-sdk/lib/crypto-api";
import type { MessageKey, Translate } from "../i18n";
import type { RawEvent } from "./timeline";

export function toRaw(ev: MatrixEvent): RawEvent {
  return {
    id: ev.getId() ?? ev.getTxnId() ?? `local-${ev.getTs()}`,
    type: ev.getType(),
    sender: ev.getSender() ?? "",
    ts: ev.getTs(),
    content: contentOf(ev),
    relation: ev.getRelation() as RawEvent["relation"],
    redacted: ev.isRedacted(),
    stateKey: ev.getStateKey(),
    failed: ev.isDecryptionFailure(),
    pending: !!ev.status,
    // The SDK may fold an edit into its target itself (getContent() then
    // already returns the new content) without the edit in the timeline.
    replaced: !!ev.replacingEvent(),
  };
}

/** senderName is the member's display name in the room, else the user ID. */
export function nameOf(room: Room, userId: string): string {
  return room.getMember(userId)?.name || userId;
}

const FAILURES: Partial<Record<DecryptionFailureCode, MessageKey>> = {
  [DecryptionFailureCode.MEGOLM_UNKNOWN_INBOUND_SESSION_ID]: "decrypt.noKey",
  [DecryptionFailureCode.MEGOLM_KEY_WITHHELD]: "decrypt.withheld",
  [DecryptionFailureCode.MEGOLM_KEY_WITHHELD_FOR_UNVERIFIED_DEVICE]: "decrypt.unverifiedDevice",
  [DecryptionFailureCode.OLM_UNKNOWN_MESSAGE_INDEX]: "decrypt.unknownIndex",
  [DecryptionFailureCode.HISTORICAL_MESSAGE_NO_KEY_BACKUP]: "decrypt.historical",
  [DecryptionFailureCode.HISTORICAL_MESSAGE_BACKUP_UNCONFIGURED]: "decrypt.historical",
  [DecryptionFailureCode.HISTORICAL_MESSAGE_WORKING_BACKUP]: "decrypt.historical",
  [DecryptionFailureCode.HISTORICAL_MESSAGE_USER_NOT_JOINED]: "decrypt.notJoined",
  [DecryptionFailureCode.SENDER_IDENTITY_PREVIOUSLY_VERIFIED]: "decrypt.identityChanged",
  [DecryptionFailureCode.UNSIGNED_SENDER_DEVICE]: "decrypt.unsignedDevice",
};

/** whyUndecryptable explains, in the user's words, why a message is unreadable. */
export function whyUndecryptable(t: Translate, ev: MatrixEvent | undefined): string {
  const code = ev?.decryptionFailureReason;
  if (!code) return t("decrypt.waiting");
  return t(FAILURES[code] ?? "decrypt.unknown");
}

/** stateNotice says in one line what a state event changed. */
export function stateNotice(t: Translate, room: Room, e: RawEvent, prev: Record<string, unknown> | undefined): string {
  const who = nameOf(room, e.sender);
  const c = e.content;
  switch (e.type) {
    case "m.room.create":
      return t("notice.created", { who });
    case "m.room.encryption":
      return t("notice.encryption", { who });
    case "m.room.name":
      return c.name ? t("notice.name", { who, name: String(c.name) }) : t("notice.nameRemoved", { who });
    case "m.room.topic":
      return t("notice.topic", { who, topic: String(c.topic ?? "") });
    case "m.room.avatar":
      return t("notice.avatar", { who });
    case "m.room.join_rules":
      return t("notice.joinRule", { who, rule: String(c.join_rule ?? "") });
    case "m.room.history_visibility":
      return t("notice.history", { who, visibility: String(c.history_visibility ?? "") });
    case "m.room.member": {
      const target = (c.displayname as string) || e.stateKey || "";
      const was = prev?.membership;
      switch (c.membership) {
        case "join":
          if (was === "join") return t("notice.profile", { who: target });
          return t("notice.joined", { who: target });
        case "invite":
          return t("notice.invited", { who, target });
        case "leave":
          if (e.stateKey !== e.sender) return t("notice.kicked", { who, target: e.stateKey ?? "" });
          return was === "invite" ? t("notice.declined", { who: target }) : t("notice.left", { who: target });
        case "ban":
          return t("notice.banned", { who, target: e.stateKey ?? "" });
      }
    }
  }
  return t("timeline.unsupported", { type: e.type });
}

/** contentOf prefers the SDK's applied edit, read from the edit itself once decrypted. */
function contentOf(ev: MatrixEvent): Record<string, unknown> {
  const edit = ev.replacingEvent();
  const next = edit && !edit.isDecryptionFailure() ? edit.getContent()["m.new_content"] : undefined;
  return (next && typeof next === "object" ? next : ev.getContent()) as Record<string, unknown>;
}
