// The signed-in layout: header, room list, the selected room, settings.
// This module (and matrix-js-sdk with it) is loaded only after sign-in.
import { ClientEvent, MatrixClient, MatrixEventEvent, NotificationCountType, Room, RoomEvent, RoomStateEvent, SyncState } from "matrix-js-sdk";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { useI18n } from "../app";
import { errorMessage } from "../errors";
import type { Session } from "../flows";
import { CallHost, isDM, useCall } from "./Calls";
import { startSession, signOut } from "./client";
import { CreateRoomDialog, DirectoryDialog, StartDMDialog } from "./Dialogs";
import { RoomList } from "./RoomList";
import { RoomView } from "./RoomView";
import { watchNotifications } from "./notify";
import { SecurityPrompt } from "./Security";
import { Settings } from "./Settings";
import { useIncomingVerification, VerifyDialog } from "./Verification";
import { RoomSummary, sortRooms } from "./rooms";

export function Main({ session, onSignedOut }: { session: Session; onSignedOut: () => void }) {
  const { t } = useI18n();
  const started = useMemo(() => startSession(session, onSignedOut), [session.accessToken]);
  const client = started.client;
  const [sync, setSync] = useState<{ state: SyncState | null; error?: unknown }>({ state: null });
  const [cryptoOk, setCryptoOk] = useState(true);
  const [tick, setTick] = useState(0);
  const [selected, setSelected] = useState<string | null>(null);
  const selectedRef = useRef<string | null>(null);
  selectedRef.current = selected;
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [dialog, setDialog] = useState<"none" | "create" | "dm" | "directory">("none");
  const [incoming, dismissIncoming] = useIncomingVerification(client);
  const calls = useCall(client);

  useEffect(() => {
    const bump = () => setTick((n) => n + 1);
    const onSync = (state: SyncState, _prev: SyncState | null, data?: { error?: Error }) => {
      setSync({ state, error: data?.error });
      bump();
    };
    client.on(ClientEvent.Sync, onSync);
    client.on(ClientEvent.Room, bump);
    client.on(ClientEvent.DeleteRoom, bump);
    client.on(RoomEvent.Timeline, bump);
    client.on(RoomEvent.Name, bump);
    client.on(RoomEvent.MyMembership, bump);
    client.on(RoomEvent.Redaction, bump);
    client.on(RoomEvent.LocalEchoUpdated, bump);
    client.on(RoomEvent.Receipt, bump);
    client.on(RoomStateEvent.Events, bump);
    client.on(MatrixEventEvent.Decrypted, bump);
    void started.crypto.then(setCryptoOk);
    const unwatch = watchNotifications(client, () => selectedRef.current, setSelected);
    return () => {
      unwatch();
      started.stop();
    };
  }, [client]);

  const rooms = useMemo(() => summarize(client), [client, tick]);
  const room = selected ? client.getRoom(selected) : null;
  const me = client.getUser(session.userId)?.displayName || session.userId;

  const doSignOut = async () => {
    await signOut(started);
    onSignedOut();
  };

  return (
    <div class={room ? "layout has-room" : "layout"}>
      <header class="topbar">
        <img src="/favicon.svg" alt="" width={28} height={28} />
        <h1 class="brand">{t("app.name")}</h1>
        <span class="me" data-testid="me" title={session.userId}>{me}</span>
        <button class="secondary" onClick={() => setSettingsOpen(true)} aria-haspopup="dialog">
          {t("main.settings")}
        </button>
      </header>
      <div class="banners">
        {statusBanner(sync.state, sync.error, cryptoOk)}
        <SecurityPrompt client={client} keys={started.keys} cryptoReady={started.crypto} />
        <CallHost controls={calls} client={client} />
      </div>
      <nav class="sidebar" aria-label={t("main.roomList")}>
        <div class="sidebar-actions">
          <button class="secondary small" onClick={() => setDialog("create")}>{t("main.newRoom")}</button>
          <button class="secondary small" onClick={() => setDialog("dm")}>{t("main.newDM")}</button>
          <button class="secondary small" onClick={() => setDialog("directory")}>{t("main.explore")}</button>
        </div>
        <h2 class="sidebar-title">{t("main.rooms")}</h2>
        <RoomList rooms={rooms} selected={selected} onSelect={setSelected} />
      </nav>
      <main class="content">
        {room ? (
          <RoomView client={client} room={room} tick={tick} onBack={() => setSelected(null)} onLeft={() => setSelected(null)}
            onCall={calls.canCall && isDM(room) ? (video) => calls.place(room, video) : undefined} callBusy={calls.view.phase !== "idle"} />
        ) : (
          <div class="placeholder" data-testid="main-empty">
            <h2>{t("main.welcome", { name: me })}</h2>
            <p class="muted">{rooms.length ? t("main.pickRoom") : t("main.noRoomsHint")}</p>
          </div>
        )}
      </main>
      {dialog !== "none" && (() => {
        const props = { client, onClose: () => setDialog("none"), onOpened: (id: string) => (setSelected(id), setDialog("none")) };
        return dialog === "create" ? <CreateRoomDialog {...props} /> : dialog === "dm" ? <StartDMDialog {...props} /> : <DirectoryDialog {...props} />;
      })()}
      {incoming && <VerifyDialog request={incoming} onClose={dismissIncoming} />}
      {settingsOpen && (
        <Settings client={client} session={session} onClose={() => setSettingsOpen(false)} onSignOut={doSignOut} />
      )}
    </div>
  );

  function statusBanner(state: SyncState | null, error: unknown, cryptoReady: boolean) {
    let text = "";
    if (state === null) text = t("main.connecting");
    else if (state === SyncState.Error || state === SyncState.Reconnecting)
      text = error ? t("main.syncError", { detail: errorMessage(t, error) }) : t("main.offline");
    if (!text && cryptoReady) return null;
    return (
      <div class="banner" role="status" aria-live="polite">
        {text && <span data-testid="sync-status">{text}</span>}
        {!cryptoReady && <span>{t("main.cryptoUnavailable")}</span>}
      </div>
    );
  }
}

function summarize(client: MatrixClient): RoomSummary[] {
  return sortRooms(
    client
      .getRooms()
      .filter((r: Room) => ["join", "invite"].includes(r.getMyMembership()))
      .map((r: Room) => ({
        roomId: r.roomId,
        name: inviteName(client, r) || r.name || r.roomId,
        lastTs: r.getLastActiveTimestamp(),
        unread: r.getUnreadNotificationCount(NotificationCountType.Total) ?? 0,
        highlights: r.getUnreadNotificationCount(NotificationCountType.Highlight) ?? 0,
        invite: r.getMyMembership() === "invite",
      })),
  );
}

/** inviteName: an unnamed invite is called after whoever sent it. */
function inviteName(client: MatrixClient, r: Room): string | undefined {
  if (r.getMyMembership() !== "invite" || r.currentState.getStateEvents("m.room.name", "") || r.getCanonicalAlias()) return undefined;
  return r.getMember(client.getUserId()!)?.events.member?.getSender();
}
