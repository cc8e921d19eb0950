import { describe, expect, it } from "vitest";
import { messageContent } from "./content";

describe("messageContent", () => {
  it("sends plain text as is", () => expect(messageContent("hi", { kind: "new" })).toEqual({ msgtype: "m.text", body: "hi" }));
  it("replies point at the event and mention its sender", () =>
    expect(messageContent("yes", { kind: "reply", eventId: "$a" }, "@a:hs")).toEqual({
      msgtype: "m.text",
      body: "yes",
      "m.relates_to": { "m.in_reply_to": { event_id: "$a" } },
      "m.mentions": { user_ids: ["@a:hs"] },
    }));
  it("edits carry m.new_content and a fallback body", () =>
    expect(messageContent("**new**", { kind: "edit", eventId: "$a", text: "old" })).toEqual({
      msgtype: "m.text",
      body: "* **new**",
      format: "org.matrix.custom.html",
      formatted_body: "* <strong>new</strong>",
      "m.new_content": { msgtype: "m.text", body: "**new**", format: "org.matrix.custom.html", formatted_body: "<strong>new</strong>" },
      "m.relates_to": { rel_type: "m.replace", event_id: "$a" },
    }));
});
