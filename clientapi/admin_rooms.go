package clientapi

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// adminRoomJSON is a room as Synapse's admin room list shows it.
type adminRoomJSON struct {
	RoomID             string  `json:"room_id"`
	Name               *string `json:"name"`
	Topic              *string `json:"topic,omitempty"`
	Avatar             *string `json:"avatar,omitempty"`
	CanonicalAlias     *string `json:"canonical_alias"`
	JoinedMembers      int     `json:"joined_members"`
	JoinedLocalMembers int     `json:"joined_local_members"`
	Version            string  `json:"version"`
	Creator            string  `json:"creator"`
	Encryption         *string `json:"encryption"`
	Federatable        bool    `json:"federatable"`
	Public             bool    `json:"public"`
	JoinRules          *string `json:"join_rules"`
	GuestAccess        *string `json:"guest_access"`
	HistoryVisibility  *string `json:"history_visibility"`
	StateEvents        int     `json:"state_events"`
	RoomType           *string `json:"room_type"`
}

// GET /_synapse/admin/v1/rooms?from=&limit=&search_term=: every room the
// server knows, in room ID order.
func (a *API) adminListRooms(c echo.Context) error {
	from, limit, err := pageParams(c, 100)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	term := strings.ToLower(c.QueryParam("search_term"))
	var rooms []adminRoomJSON
	var total int64
	if term == "" {
		rows, n, err := a.opts.Admin.Store.ListRooms(ctx, from, limit)
		if err != nil {
			return err
		}
		for _, r := range rows {
			rooms = append(rooms, a.adminRoom(ctx, r, false))
		}
		total = n
	} else {
		// Names and aliases live in room state, so a search reads every
		// room; fine at the scale an admin lists rooms by hand.
		rows, _, err := a.opts.Admin.Store.ListRooms(ctx, 0, -1)
		if err != nil {
			return err
		}
		var matched []adminRoomJSON
		for _, r := range rows {
			if ar := a.adminRoom(ctx, r, false); roomMatches(ar, term) {
				matched = append(matched, ar)
			}
		}
		total = int64(len(matched))
		rooms = matched[min(from, len(matched)):min(from+limit, len(matched))]
	}
	if rooms == nil {
		rooms = []adminRoomJSON{}
	}
	body := map[string]any{"rooms": rooms, "offset": from, "total_rooms": total}
	if int64(from+len(rooms)) < total && len(rooms) > 0 {
		body["next_batch"] = from + len(rooms)
	}
	if from > 0 {
		body["prev_batch"] = max(from-limit, 0)
	}
	return ok(c, body)
}

func roomMatches(r adminRoomJSON, term string) bool {
	for _, s := range []*string{r.Name, r.CanonicalAlias, &r.RoomID} {
		if s != nil && strings.Contains(strings.ToLower(*s), term) {
			return true
		}
	}
	return false
}

// GET /_synapse/admin/v1/rooms/{roomId}
func (a *API) adminGetRoom(c echo.Context) error {
	raw := c.Param("roomId")
	id, err := spec.ParseRoomID(raw)
	if err != nil {
		return spec.InvalidParam("invalid room ID %q", raw)
	}
	ctx := c.Request().Context()
	room, _, err := a.opts.Rooms.Room(ctx, id) // 404 M_NOT_FOUND when unknown
	if err != nil {
		return err
	}
	return ok(c, a.adminRoom(ctx, room, true))
}

// adminRoom summarises a room from its current state.
func (a *API) adminRoom(ctx context.Context, r models.Room, details bool) adminRoomJSON {
	id := spec.RoomID(r.RoomID)
	get := func(typ, key string) *string {
		ev, err := a.opts.Rooms.StateEvent(ctx, id, typ, "")
		if err != nil {
			return nil
		}
		if v := contentString(ev.Content(), key); v != "" {
			return &v
		}
		return nil
	}
	out := adminRoomJSON{RoomID: r.RoomID, Name: get("m.room.name", "name"), CanonicalAlias: get("m.room.canonical_alias", "alias"),
		Version: r.Version, Creator: r.Creator, Encryption: get("m.room.encryption", "algorithm"), Public: r.IsPublic,
		JoinRules: get("m.room.join_rules", "join_rule"), GuestAccess: get("m.room.guest_access", "guest_access"),
		HistoryVisibility: get("m.room.history_visibility", "history_visibility"), RoomType: get("m.room.create", "type")}
	out.Federatable = true
	if ev, err := a.opts.Rooms.StateEvent(ctx, id, "m.room.create", ""); err == nil {
		var create struct {
			Federate *bool `json:"m.federate"`
		}
		if json.Unmarshal(ev.Content(), &create) == nil && create.Federate != nil {
			out.Federatable = *create.Federate
		}
	}
	if members, err := a.opts.Rooms.Members(ctx, id, "join"); err == nil {
		out.JoinedMembers = len(members)
		suffix := ":" + string(a.opts.ServerName)
		for _, m := range members {
			if strings.HasSuffix(m, suffix) {
				out.JoinedLocalMembers++
			}
		}
	}
	if state, err := a.opts.Rooms.State(ctx, id, ""); err == nil {
		out.StateEvents = len(state)
	}
	if details {
		out.Topic, out.Avatar = get("m.room.topic", "topic"), get("m.room.avatar", "url")
	}
	return out
}
