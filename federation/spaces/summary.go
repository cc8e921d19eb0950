// Package spaces walks space hierarchies: the m.space.child tree below a
// room, as GET /_matrix/client/v1/rooms/{roomId}/hierarchy pages it for a
// user and GET /_matrix/federation/v1/hierarchy/{roomId} answers it for a
// server (client-server-api "Spaces", server-server-api "Spaces").
package spaces

import (
	"cmp"
	"encoding/json"
	"slices"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models"
)

// Summary is a room summary (room_summary.yaml) plus the children_state of
// the hierarchy answers.
type Summary struct {
	RoomID           string       `json:"room_id"`
	NumJoinedMembers int          `json:"num_joined_members"`
	WorldReadable    bool         `json:"world_readable"`
	GuestCanJoin     bool         `json:"guest_can_join"`
	Name             string       `json:"name,omitempty"`
	Topic            string       `json:"topic,omitempty"`
	CanonicalAlias   string       `json:"canonical_alias,omitempty"`
	AvatarURL        string       `json:"avatar_url,omitempty"`
	JoinRule         string       `json:"join_rule,omitempty"`
	RoomType         string       `json:"room_type,omitempty"`
	RoomVersion      string       `json:"room_version,omitempty"`
	Encryption       string       `json:"encryption,omitempty"`
	AllowedRoomIDs   []string     `json:"allowed_room_ids,omitempty"`
	ChildrenState    []ChildState `json:"children_state"`
}

// ChildState is an m.space.child event as stripped state with its
// origin_server_ts (StrippedChildStateEvent).
type ChildState struct {
	Type           string          `json:"type"`
	StateKey       string          `json:"state_key"`
	Content        json.RawMessage `json:"content"`
	Sender         string          `json:"sender"`
	OriginServerTS int64           `json:"origin_server_ts"`
}

// childContent is what the walk reads of m.space.child (client-server-api
// "m.space.child"): a child without via is not a child.
type childContent struct {
	Via       []string `json:"via"`
	Order     any      `json:"order"`
	Suggested bool     `json:"suggested"`
}

// child is one valid edge of the tree.
type child struct {
	roomID string
	via    []string
	state  ChildState
	order  string
}

// children keeps the valid m.space.child entries, in the spec's order:
// by `order` (valid strings only, before those without), then by
// origin_server_ts, then by room ID.
func children(states []ChildState, suggestedOnly bool) []child {
	var out []child
	for _, st := range states {
		var c childContent
		if st.Type != "m.space.child" || json.Unmarshal(st.Content, &c) != nil || len(c.Via) == 0 {
			continue
		}
		if suggestedOnly && !c.Suggested {
			continue
		}
		ch := child{roomID: st.StateKey, via: c.Via, state: st}
		if o, ok := c.Order.(string); ok && validOrder(o) {
			ch.order = o
		}
		out = append(out, ch)
	}
	slices.SortFunc(out, func(a, b child) int {
		if (a.order == "") != (b.order == "") {
			if a.order == "" {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(a.order, b.order); c != 0 {
			return c
		}
		if c := cmp.Compare(a.state.OriginServerTS, b.state.OriginServerTS); c != 0 {
			return c
		}
		return cmp.Compare(a.roomID, b.roomID)
	})
	return out
}

// validOrder: at most 50 characters of printable ASCII (0x20-0x7E).
func validOrder(o string) bool {
	if len(o) > 50 {
		return false
	}
	for i := 0; i < len(o); i++ {
		if o[i] < 0x20 || o[i] > 0x7e {
			return false
		}
	}
	return true
}

// summarize builds a room's summary from its current state events.
func summarize(room models.Room, state []*event.Event, joined int) Summary {
	s := Summary{RoomID: room.RoomID, RoomVersion: room.Version, NumJoinedMembers: joined, ChildrenState: []ChildState{}}
	var jr struct {
		JoinRule string `json:"join_rule"`
		Allow    []struct {
			Type   string `json:"type"`
			RoomID string `json:"room_id"`
		} `json:"allow"`
	}
	for _, ev := range state {
		get := func(key string) string {
			var m map[string]any
			json.Unmarshal(ev.Content(), &m)
			v, _ := m[key].(string)
			return v
		}
		switch {
		case ev.Type() == "m.space.child" && ev.StateKey() != nil:
			s.ChildrenState = append(s.ChildrenState, ChildState{Type: ev.Type(), StateKey: *ev.StateKey(),
				Content: json.RawMessage(ev.Content()), Sender: ev.Sender(), OriginServerTS: ev.OriginServerTS()})
		case !ev.StateKeyEquals(""):
		case ev.Type() == "m.room.name":
			s.Name = get("name")
		case ev.Type() == "m.room.topic":
			s.Topic = get("topic")
		case ev.Type() == "m.room.canonical_alias":
			s.CanonicalAlias = get("alias")
		case ev.Type() == "m.room.avatar":
			s.AvatarURL = get("url")
		case ev.Type() == "m.room.create":
			s.RoomType = get("type")
		case ev.Type() == "m.room.encryption":
			s.Encryption = get("algorithm")
		case ev.Type() == "m.room.history_visibility":
			s.WorldReadable = get("history_visibility") == "world_readable"
		case ev.Type() == "m.room.guest_access":
			s.GuestCanJoin = get("guest_access") == "can_join"
		case ev.Type() == "m.room.join_rules":
			json.Unmarshal(ev.Content(), &jr)
			s.JoinRule = jr.JoinRule
		}
	}
	if s.JoinRule == "restricted" || s.JoinRule == "knock_restricted" {
		for _, a := range jr.Allow {
			if a.Type == "m.room_membership" && a.RoomID != "" {
				s.AllowedRoomIDs = append(s.AllowedRoomIDs, a.RoomID)
			}
		}
	}
	return s
}
