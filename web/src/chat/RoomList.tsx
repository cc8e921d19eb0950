import { useEffect } from "preact/hooks";
import { useI18n } from "../app";
import { initials, RoomSummary } from "./rooms";

interface Props {
  rooms: RoomSummary[];
  selected: string | null;
  onSelect: (roomId: string) => void;
}

export function RoomList({ rooms, selected, onSelect }: Props) {
  const { t } = useI18n();
  // A performance mark for the budget "navigation to an interactive room
  // list" (docs/PERFORMANCE.md): set once, after the first commit with rooms.
  useEffect(() => {
    if (rooms.length && !performance.getEntriesByName("kabar:room-list").length) performance.mark("kabar:room-list");
  }, [rooms.length > 0]);
  if (rooms.length === 0)
    return (
      <div class="empty" data-testid="rooms-empty">
        <p><strong>{t("main.noRooms")}</strong></p>
        <p class="muted">{t("main.noRoomsHint")}</p>
      </div>
    );
  return (
    <ul class="rooms" data-testid="room-list">
      {rooms.map((r) => (
        <li key={r.roomId}>
          <button
            class={r.roomId === selected ? "room active" : "room"}
            aria-current={r.roomId === selected ? "true" : undefined}
            onClick={() => onSelect(r.roomId)}
          >
            <span class="avatar" aria-hidden="true">{initials(r.name)}</span>
            <span class="room-name">{r.name}</span>
            {r.highlights > 0 ? (
              <span class="badge highlight" aria-label={t("main.mentions", { count: r.highlights })}>{r.highlights}</span>
            ) : r.unread > 0 ? (
              <span class="badge" aria-label={t("main.unread", { count: r.unread })}>{r.unread}</span>
            ) : null}
          </button>
        </li>
      ))}
    </ul>
  );
}
