// Event content for what the composer sends: new messages, replies
// (m.in_reply_to, with m.mentions) and edits (m.replace with m.new_content).
import { formatMessage } from "./markdown";

export type Draft = { kind: "new" } | { kind: "reply"; eventId: string } | { kind: "edit"; eventId: string; text: string };

/** messageContent builds the event content for the composer's text and mode. */
export function messageContent(text: string, draft: Draft, replySender?: string): Record<string, unknown> {
  const content: Record<string, unknown> = formatMessage(text);
  if (draft.kind === "edit")
    return {
      ...content,
      body: `* ${text}`,
      ...(content.formatted_body ? { formatted_body: `* ${content.formatted_body}` } : {}),
      "m.new_content": content,
      "m.relates_to": { rel_type: "m.replace", event_id: draft.eventId },
    };
  if (draft.kind === "reply") {
    content["m.relates_to"] = { "m.in_reply_to": { event_id: draft.eventId } };
    if (replySender) content["m.mentions"] = { user_ids: [replySender] };
  }
  return content;
}

