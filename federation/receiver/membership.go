package receiver

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/xmatrix"
	"github.com/kabarchat/kabar/models/spec"
)

// makeMembership is GET /make_join, /make_leave and /make_knock
// (server-server-api "Joining Rooms", "Leaving Rooms", "Knocking upon a
// room"): a template for a user of the origin.
func (r *Receiver) makeMembership(membership string) echo.HandlerFunc {
	return func(c echo.Context) error {
		roomID, err := r.pathRoomID(c)
		if err != nil {
			return err
		}
		user, err := spec.ParseUserID(c.Param("userId"))
		if err != nil {
			return spec.InvalidParam("bad user ID")
		}
		if user.Server() != xmatrix.Origin(c) {
			return spec.Forbidden("user %s is not on the requesting server", user)
		}
		ctx := c.Request().Context()
		rv, err := r.roomVersion(ctx, roomID)
		if err != nil {
			return roomErr(err)
		}
		if err := r.checkACL(ctx, string(roomID), xmatrix.Origin(c)); err != nil {
			return err
		}
		// make_join: without ver the joining server only supports v1.
		// make_knock: ver is required (knocks.yaml), so none matches.
		if membership == "join" || membership == "knock" {
			vers := c.QueryParams()["ver"]
			if len(vers) == 0 && membership == "join" {
				vers = []string{"1"}
			}
			if !slices.Contains(vers, rv.ID) {
				e := spec.NewError(http.StatusBadRequest, spec.ErrIncompatibleRoomVer, "room version %s is not supported by the joining server", rv.ID)
				e.Extra = map[string]any{"room_version": rv.ID}
				return e
			}
		}
		var extra map[string]any
		if membership == "join" {
			via, err := r.restrictedVia(ctx, roomID, user)
			if err != nil {
				return err
			}
			if via != "" {
				extra = map[string]any{"join_authorised_via_users_server": via}
			}
		}
		tmpl, rv, err := r.opts.Rooms.Template(ctx, roomID, user, membership, extra)
		if err != nil {
			return roomErr(err)
		}
		return c.JSON(http.StatusOK, map[string]any{"room_version": rv.ID, "event": tmpl})
	}
}

// sendJoinResponse is send_join v2's answer.
type sendJoinResponse struct {
	AuthChain      []json.RawMessage `json:"auth_chain"`
	State          []json.RawMessage `json:"state"`
	MembersOmitted bool              `json:"members_omitted"`
	ServersInRoom  []string          `json:"servers_in_room,omitempty"`
	// Event is the join countersigned by this server (restricted joins).
	Event  json.RawMessage `json:"event,omitempty"`
	Origin string          `json:"origin"`
}

// sendJoin is PUT /v2/send_join/{roomId}/{eventId}.
func (r *Receiver) sendJoin(c echo.Context) error {
	ev, err := r.acceptMembership(c, "join")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	state, err := r.opts.Rooms.StateBefore(ctx, ev.EventID())
	if err != nil {
		return roomErr(err)
	}
	// omit_members (v1.6) is understood: member events leave the state; the
	// auth chain still covers the join and what state remains.
	omit := c.QueryParam("omit_members") == "true"
	resp := sendJoinResponse{Origin: string(r.opts.ServerName), MembersOmitted: omit,
		AuthChain: []json.RawMessage{}, State: []json.RawMessage{}}
	if authorisedVia(ev) != "" {
		resp.Event = ev.JSON()
	}
	servers := map[string]bool{}
	var kept []*event.Event
	for _, s := range state {
		if s.Type() == "m.room.member" && membershipOf(s) == "join" {
			if u, err := spec.ParseUserID(*s.StateKey()); err == nil {
				servers[string(u.Server())] = true
			}
		}
		if omit && s.Type() == "m.room.member" {
			continue
		}
		kept = append(kept, s)
		resp.State = append(resp.State, s.JSON())
	}
	chain, err := r.opts.Rooms.AuthChain(ctx, ev.Version(), append(kept, ev))
	if err != nil {
		return roomErr(err)
	}
	for _, a := range chain {
		resp.AuthChain = append(resp.AuthChain, a.JSON())
	}
	for s := range servers {
		resp.ServersInRoom = append(resp.ServersInRoom, s)
	}
	return c.JSON(http.StatusOK, resp)
}

// sendLeave is PUT /v2/send_leave/{roomId}/{eventId}: an empty object.
func (r *Receiver) sendLeave(c echo.Context) error {
	if _, err := r.acceptMembership(c, "leave"); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{})
}

// sendKnock is PUT /v1/send_knock/{roomId}/{eventId} (knocks.yaml): the
// knock is accepted and the room's stripped state returned, which must
// include m.room.create (v1.16: full PDUs, as for invite_room_state).
func (r *Receiver) sendKnock(c echo.Context) error {
	ev, err := r.acceptMembership(c, "knock")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	state := []json.RawMessage{}
	for _, typ := range knockStateTypes {
		st, err := r.opts.Rooms.StateEvent(ctx, spec.RoomID(ev.RoomID()), typ, "")
		if err != nil {
			continue // the room has no such state
		}
		state = append(state, st.JSON())
	}
	return c.JSON(http.StatusOK, map[string]any{"knock_room_state": state})
}

// knockStateTypes is client-server-api "Stripped state"'s recommended set.
var knockStateTypes = []string{"m.room.create", "m.room.join_rules", "m.room.name", "m.room.canonical_alias", "m.room.avatar", "m.room.encryption", "m.room.topic"}

// acceptMembership checks a send_join/send_leave/send_knock body and runs it through
// the room's actor.
func (r *Receiver) acceptMembership(c echo.Context, membership string) (*event.Event, error) {
	roomID, eventID, err := r.pathEvent(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Request().Context()
	rv, err := r.roomVersion(ctx, roomID)
	if err != nil {
		return nil, roomErr(err)
	}
	if err := r.checkACL(ctx, string(roomID), xmatrix.Origin(c)); err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if err := echoserver.BindJSON(c, &raw); err != nil {
		return nil, err
	}
	if membership == "join" {
		if raw, err = r.countersign(rv, raw); err != nil {
			return nil, err
		}
	}
	ev, err := r.checkPDU(ctx, rv, raw)
	if err != nil {
		return nil, err
	}
	if err := checkMembershipEvent(ev, roomID, eventID, xmatrix.Origin(c), membership); err != nil {
		return nil, err
	}
	// The resident server relays the join or leave to the room's other
	// servers ("Joining Rooms", "Leaving Rooms").
	acc, err := r.opts.Rooms.AcceptRelayed(ctx, ev)
	if err != nil {
		return nil, roomErr(err)
	}
	if acc.SoftFailed {
		return nil, spec.Forbidden("the %s is not allowed by the room's current state", membership)
	}
	return ev, nil
}
