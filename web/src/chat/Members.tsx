// The member list side panel: joined and invited members, invite by user
// ID, kick and ban for those with the power to.
import { MatrixClient, Room, RoomMember } from "matrix-js-sdk";
import { useEffect, useState } from "preact/hooks";
import { useI18n } from "../app";
import { errorMessage } from "../errors";
import { validUserId } from "./ids";
import { canModerate, outranks } from "./power";
import { initials } from "./rooms";
import { MemberDevices } from "./Verification";

export function Members({ client, room, onClose }: { client: MatrixClient; room: Room; onClose: () => void }) {
  const { t } = useI18n();
  const [, setTick] = useState(0);
  const [invitee, setInvitee] = useState("");
  const [status, setStatus] = useState("");
  const [open, setOpen] = useState<string | null>(null);
  useEffect(() => {
    // Lazy-loaded members: fetch the full list once the panel opens.
    void room.loadMembersIfNeeded().then(() => setTick((n) => n + 1), () => {});
  }, [room.roomId]);
  const me = room.getMember(client.getUserId()!);
  const canKick = !!me && canModerate(room, me.userId, "kick");
  const canBan = !!me && canModerate(room, me.userId, "ban");
  const members = room.getMembers().filter((m) => m.membership === "join" || m.membership === "invite");
  members.sort((a, b) => b.powerLevel - a.powerLevel || a.name.localeCompare(b.name));

  const run = async (what: Promise<unknown>, done: string) => {
    setStatus("");
    try {
      await what;
      setStatus(done);
      setTick((n) => n + 1);
    } catch (e) {
      setStatus(errorMessage(t, e));
    }
  };
  const invite = (e: Event) => {
    e.preventDefault();
    const id = invitee.trim();
    if (!validUserId(id)) return setStatus(t("dm.badUserId"));
    setInvitee("");
    void run(client.invite(room.roomId, id), t("members.invited", { who: id }));
  };
  const row = (m: RoomMember) => (
    <li key={m.userId} class="member" data-testid="member">
      <span class="avatar small" aria-hidden="true">{initials(m.name)}</span>
      <button class="link member-name" title={m.userId} aria-expanded={open === m.userId} onClick={() => setOpen(open === m.userId ? null : m.userId)}>
        {m.name}
        {m.membership === "invite" && <span class="muted"> ({t("members.invitedTag")})</span>}
        {m.powerLevel >= 100 ? <span class="muted"> · {t("members.admin")}</span> : m.powerLevel >= 50 ? <span class="muted"> · {t("members.mod")}</span> : null}
      </button>
      {m.userId !== me?.userId && canKick && outranks(room, me!.userId, m.userId) && (
        <button class="secondary small" onClick={() => run(client.kick(room.roomId, m.userId), t("members.kicked", { who: m.name }))}>{t("members.kick")}</button>
      )}
      {m.userId !== me?.userId && canBan && outranks(room, me!.userId, m.userId) && (
        <button class="danger small" onClick={() => run(client.ban(room.roomId, m.userId), t("members.banned", { who: m.name }))}>{t("members.ban")}</button>
      )}
      {open === m.userId && <MemberDevices client={client} userId={m.userId} />}
    </li>
  );
  return (
    <aside class="panel" aria-label={t("room.members")} data-testid="members-panel">
      <header class="dialog-head">
        <h3>{t("members.count", { count: members.length })}</h3>
        <button class="secondary" onClick={onClose} aria-label={t("settings.close")}>×</button>
      </header>
      <form onSubmit={invite} class="inline-form">
        <input aria-label={t("members.inviteLabel")} placeholder="@name:server" value={invitee} onInput={(e) => setInvitee((e.currentTarget as HTMLInputElement).value)} />
        <button class="primary" type="submit">{t("members.invite")}</button>
      </form>
      {status && <p role="status" class="muted">{status}</p>}
      <ul class="members">{members.map(row)}</ul>
    </aside>
  );
}
