package clientapi

import (
	"context"
	"sort"
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

// Pagination tokens name a room ID of the list (in room ID order): "f" +
// ID continues with the rooms after it, "b" + ID goes back to the rooms
// before it (list_public_rooms.yaml next_batch / prev_batch).
const (
	forwardToken  = "f"
	backwardToken = "b"
)

// GET and POST /publicRooms (list_public_rooms.yaml): our directory, in room
// ID order, filtered by generic_search_term (name, topic, alias; case
// insensitive) and room_types, paged both ways.
func (a *API) publicRooms(c echo.Context) error {
	var req publicRoomsRequest
	if c.Request().Method == "POST" {
		if err := echoserver.BindJSON(c, &req); err != nil {
			return err
		}
		// server is a query parameter for POST too (list_public_rooms.yaml);
		// a body "server" from older clients is still honoured.
		if q := c.QueryParam("server"); q != "" {
			req.Server = q
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
		return a.remotePublicRooms(c, &req)
	}
	out, err := a.publicRoomsPage(c.Request().Context(), &req)
	if err != nil {
		return err
	}
	return ok(c, out)
}

// PublicRoomsPage answers a query of our own room directory: the client
// API's /publicRooms and the federation's (server-server-api "Public Room
// Directory", which has the same request and response).
func (a *API) PublicRoomsPage(ctx context.Context, limit *int, since, term string, roomTypes []*string) (map[string]any, error) {
	req := publicRoomsRequest{Limit: limit, Since: since}
	req.Filter.GenericSearchTerm, req.Filter.RoomTypes = term, roomTypes
	return a.publicRoomsPage(ctx, &req)
}

func (a *API) publicRoomsPage(ctx context.Context, req *publicRoomsRequest) (map[string]any, error) {
	limit := 100
	if req.Limit != nil && *req.Limit > 0 {
		limit = min(*req.Limit, 500)
	}
	backward, from, err := parsePublicSince(req.Since)
	if err != nil {
		return nil, err
	}
	list, err := a.matchingPublicRooms(ctx, req)
	if err != nil {
		return nil, err
	}
	page, start := pagePublicRooms(list, backward, from, limit)
	chunk := make([]publicRoom, len(page))
	for i, r := range page {
		if r.summary == nil {
			s := a.publicRoomSummary(ctx, spec.RoomID(r.id))
			r.summary = &s
		}
		chunk[i] = *r.summary
	}
	out := map[string]any{"chunk": chunk, "total_room_count_estimate": len(list)}
	if start+len(page) < len(list) && len(page) > 0 {
		out["next_batch"] = forwardToken + page[len(page)-1].id
	}
	if start > 0 && len(page) > 0 {
		out["prev_batch"] = backwardToken + page[0].id
	}
	return out, nil
}

func parsePublicSince(since string) (backward bool, from string, err error) {
	if since == "" {
		return false, "", nil
	}
	if from, ok := strings.CutPrefix(since, forwardToken); ok && from != "" {
		return false, from, nil
	}
	if from, ok := strings.CutPrefix(since, backwardToken); ok && from != "" {
		return true, from, nil
	}
	return false, "", spec.InvalidParam("since is not a token of this server")
}

// listedRoom is a directory room; summary is filled when the filter needed
// it (or when the room is on the page).
type listedRoom struct {
	id      string
	summary *publicRoom
}

// matchingPublicRooms lists every directory room the filter keeps, in room
// ID order. Without a filter no summary is read (only the page's are).
func (a *API) matchingPublicRooms(ctx context.Context, req *publicRoomsRequest) ([]listedRoom, error) {
	term := strings.ToLower(req.Filter.GenericSearchTerm)
	filtered := term != "" || len(req.Filter.RoomTypes) > 0
	var out []listedRoom
	after := ""
	for {
		rooms, err := a.opts.Rooms.Store().PublicRooms(ctx, after, 500)
		if err != nil {
			return nil, err
		}
		for _, r := range rooms {
			after = r.RoomID
			if !filtered {
				out = append(out, listedRoom{id: r.RoomID})
				continue
			}
			pr := a.publicRoomSummary(ctx, spec.RoomID(r.RoomID))
			if matchesPublicFilter(pr, term, req.Filter.RoomTypes) {
				out = append(out, listedRoom{id: r.RoomID, summary: &pr})
			}
		}
		if len(rooms) < 500 {
			return out, nil
		}
	}
}

// pagePublicRooms cuts one page out of the sorted list: the limit rooms
// after from (forward) or before it (backward). start is the page's index.
func pagePublicRooms(list []listedRoom, backward bool, from string, limit int) ([]listedRoom, int) {
	i := sort.Search(len(list), func(i int) bool { return list[i].id > from })
	if backward {
		end := sort.Search(len(list), func(i int) bool { return list[i].id >= from })
		start := max(0, end-limit)
		return list[start:end], start
	}
	if from == "" {
		i = 0
	}
	end := min(len(list), i+limit)
	return list[i:end], i
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
