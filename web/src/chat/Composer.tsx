// The composer: Markdown to formatted_body, replies (m.in_reply_to), edits
// (m.replace with m.new_content) and typing notifications.
import { MatrixClient, Room } from "matrix-js-sdk";
import { useEffect, useRef, useState } from "preact/hooks";
import { useI18n } from "../app";
import { errorMessage } from "../errors";
import { Draft, messageContent } from "./content";

export type { Draft } from "./content";

interface Props {
  client: MatrixClient;
  room: Room;
  draft: Draft;
  onDraft: (d: Draft) => void;
  replyName: (eventId: string) => string;
  onSent: () => void;
  /** onFiles uploads files picked or pasted into the composer. */
  onFiles: (files: File[]) => void;
}

const TYPING_MS = 20_000;

export function Composer({ client, room, draft, onDraft, replyName, onSent, onFiles }: Props) {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const input = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const typingSince = useRef(0);

  useEffect(() => {
    if (draft.kind === "edit") setText(draft.text);
    if (draft.kind !== "new") input.current?.focus();
  }, [draft]);
  useEffect(() => () => void stopTyping(), [room.roomId]);

  const stopTyping = () => {
    if (!typingSince.current) return;
    typingSince.current = 0;
    return client.sendTyping(room.roomId, false, 0).catch(() => {});
  };
  const onInput = (v: string) => {
    setText(v);
    if (!v) return void stopTyping();
    // Refresh well before the server-side timeout runs out.
    if (Date.now() - typingSince.current > TYPING_MS / 2) {
      typingSince.current = Date.now();
      client.sendTyping(room.roomId, true, TYPING_MS).catch(() => {});
    }
  };
  const send = async (e?: Event) => {
    e?.preventDefault();
    const body = text.trim();
    if (!body) return;
    const mode = draft;
    const replySender = mode.kind === "reply" ? room.findEventById(mode.eventId)?.getSender() : undefined;
    setText("");
    setError("");
    onDraft({ kind: "new" });
    void stopTyping();
    onSent();
    try {
      await client.sendMessage(room.roomId, messageContent(body, mode, replySender) as never);
    } catch (err) {
      setError(t("composer.failed", { error: errorMessage(t, err) }));
      setText(body);
      onDraft(mode);
    }
  };
  return (
    <form class="composer" onSubmit={send}>
      {error && <p class="error" role="alert">{error}</p>}
      {draft.kind !== "new" && (
        <div class="draft-mode" data-testid="draft-mode">
          <span>{draft.kind === "reply" ? t("composer.replyingTo", { who: replyName(draft.eventId) }) : t("composer.editing")}</span>
          <button
            type="button"
            class="link"
            onClick={() => {
              if (draft.kind === "edit") setText("");
              onDraft({ kind: "new" });
            }}
          >
            {t("composer.cancel")}
          </button>
        </div>
      )}
      <input
        ref={picker}
        type="file"
        multiple
        hidden
        data-testid="file-input"
        onChange={(e) => {
          const el = e.currentTarget as HTMLInputElement;
          if (el.files?.length) onFiles([...el.files]);
          el.value = "";
        }}
      />
      <button type="button" class="secondary attach" aria-label={t("media.attach")} title={t("media.attach")} onClick={() => picker.current?.click()}>
        📎
      </button>
      <textarea
        ref={input}
        onPaste={(e) => {
          const files = [...(e.clipboardData?.files ?? [])];
          if (files.length) {
            e.preventDefault();
            onFiles(files);
          }
        }}
        aria-label={t("composer.label")}
        placeholder={t("composer.placeholder", { room: room.name })}
        value={text}
        rows={1}
        onInput={(e) => onInput((e.currentTarget as HTMLTextAreaElement).value)}
        onBlur={() => void stopTyping()}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) void send(e);
          if (e.key === "Escape" && draft.kind !== "new") onDraft({ kind: "new" });
        }}
      />
      <button type="submit" class="primary">{t("composer.send")}</button>
    </form>
  );
}
