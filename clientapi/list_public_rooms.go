package clientapi

import (
	"context"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

type publicRoomsRequest struct {
	Limit  *int   `json:"limit"`
	Since  string `json:"since"`
	Server string `json:"server"`
	Filter struct {
		GenericSearchTerm string    `json:"generic_search_term"`
		RoomTypes         []*string `json:"room_types"`
	} `json:"filter"`
	IncludeAllNetworks   bool   `json:"include_all_networks"`
	ThirdPartyInstanceID string `json:"third_party_instance_id"`
}

// PublicRoom is one PublicRoomsChunk.
type publicRoom struct {
	RoomID           string `json:"room_id"`
	NumJoinedMembers int    `json:"num_joined_members"`
	WorldReadable    bool   `json:"world_readable"`
	GuestCanJoin     bool   `json:"guest_can_join"`
	Name             string `json:"name,omitempty"`
	Topic            string `json:"topic,omitempty"`
	CanonicalAlias   string `json:"canonical_alias,omitempty"`
	AvatarURL        string `json:"avatar_url,omitempty"`
	JoinRule         string `json:"join_rule,omitempty"`
	RoomType         string `json:"room_type,omitempty"`
}

// sinceToken pages by room ID: "r" + the last room ID of the previous page.
const sinceToken = "r"

// GET and POST /publicRooms (list_public_rooms.yaml): our directory, in room
// ID order, filtered by generic_search_term (name, topic, alias; case
// insensitive) and room_types.
func (a *API) publicRooms(c echo.Context) error {
	var req publicRoomsRequest
	if c.Request().Method == "POST" {
		if err := echoserver.BindJSON(c, &req); err != nil {
			return err
		}
	} else {
		req.Since, req.Server = c.QueryParam("since"), c.QueryParam("server")
		if l := c.QueryParam("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil {
				return spec.InvalidParam("limit must be an integer")
			}
			req.Limit = &n
		}
	}
	if req.Server != "" && req.Server != string(a.opts.ServerName) {
		return spec.NotFound("other servers' room directories need federation")
	}
	limit := 100
	if req.Limit != nil && *req.Limit > 0 {
		limit = min(*req.Limit, 500)
	}
	after := ""
	if req.Since != "" {
		var found bool
		if after, found = strings.CutPrefix(req.Since, sinceToken); !found {
			return spec.InvalidParam("since is not a token of this server")
		}
	}
	chunk, next, err := a.collectPublicRooms(c.Request().Context(), &req, after, limit)
	if err != nil {
		return err
	}
	out := map[string]any{"chunk": chunk}
	if next != "" {
		out["next_batch"] = sinceToken + next
	}
	if req.Since != "" {
		// NOTSPEC: backward paging goes back to the first page.
		out["prev_batch"] = sinceToken
	}
	return ok(c, out)
}

func (a *API) collectPublicRooms(ctx context.Context, req *publicRoomsRequest, after string, limit int) ([]publicRoom, string, error) {
	term := strings.ToLower(req.Filter.GenericSearchTerm)
	chunk := []publicRoom{}
	for len(chunk) < limit {
		rooms, err := a.opts.Rooms.Store().PublicRooms(ctx, after, 200)
		if err != nil {
			return nil, "", err
		}
		for _, r := range rooms {
			after = r.RoomID
			pr := a.publicRoomSummary(ctx, spec.RoomID(r.RoomID))
			if matchesPublicFilter(pr, term, req.Filter.RoomTypes) {
				chunk = append(chunk, pr)
				if len(chunk) == limit {
					return chunk, after, nil
				}
			}
		}
		if len(rooms) < 200 {
			return chunk, "", nil
		}
	}
	return chunk, after, nil
}

func matchesPublicFilter(pr publicRoom, term string, types []*string) bool {
	if term != "" && !strings.Contains(strings.ToLower(pr.Name), term) &&
		!strings.Contains(strings.ToLower(pr.Topic), term) && !strings.Contains(strings.ToLower(pr.CanonicalAlias), term) {
		return false
	}
	if len(types) == 0 {
		return true
	}
	for _, t := range types {
		if (t == nil && pr.RoomType == "") || (t != nil && *t == pr.RoomType) {
			return true
		}
	}
	return false
}

// publicRoomSummary reads the few state events a directory entry shows.
func (a *API) publicRoomSummary(ctx context.Context, roomID spec.RoomID) publicRoom {
	get := func(typ, key string) string {
		ev, err := a.opts.Rooms.StateEvent(ctx, roomID, typ, "")
		if err != nil {
			return ""
		}
		return contentString(ev.Content(), key)
	}
	pr := publicRoom{RoomID: string(roomID), Name: get("m.room.name", "name"), Topic: get("m.room.topic", "topic"),
		CanonicalAlias: get("m.room.canonical_alias", "alias"), AvatarURL: get("m.room.avatar", "url"),
		JoinRule: get("m.room.join_rules", "join_rule"), RoomType: get("m.room.create", "type"),
		WorldReadable: get("m.room.history_visibility", "history_visibility") == "world_readable",
		GuestCanJoin:  get("m.room.guest_access", "guest_access") == "can_join"}
	if members, err := a.opts.Rooms.Members(ctx, roomID, "join"); err == nil {
		pr.NumJoinedMembers = len(members)
	}
	return pr
}
