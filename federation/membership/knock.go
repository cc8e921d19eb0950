package membership

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models/spec"
)

// sendKnockResponse is send_knock's answer (knocks.yaml).
type sendKnockResponse struct {
	KnockRoomState []json.RawMessage `json:"knock_room_state"`
}

// KnockRemote knocks on a room this server is not in (server-server-api
// "Knocking upon a room"): make_knock and send_knock through servers, then
// the room ID's server and the servers we last knew in the room. The knock
// is stored out of band, like a remote invite, so the user's /sync shows
// the room under rooms.knock.
func (s *Service) KnockRemote(ctx context.Context, roomID spec.RoomID, user spec.UserID, servers []spec.ServerName, content map[string]any) error {
	var errs []error
	var tried []spec.ServerName
	for _, server := range s.candidateServers(ctx, roomID, user, servers) {
		if server == s.opts.ServerName {
			continue
		}
		tried = append(tried, server)
		ev, state, err := s.knockVia(ctx, roomID, user, server, content)
		if err == nil {
			return s.opts.Rooms.StoreOutOfBand(ctx, ev.WithStrippedState(state))
		}
		s.log.Info("remote knock failed", "room", roomID, "via", server, "err", err)
		errs = append(errs, fmt.Errorf("via %s: %w", server, err))
		var me *spec.Error
		if errors.As(err, &me) && me.Status == 403 {
			return me // refused by the room's rules: other servers would agree
		}
	}
	if len(errs) == 0 {
		return spec.NotFound("no server to knock on %s through", roomID)
	}
	e := spec.NewError(502, spec.ErrUnknown, "no server let us knock (tried %s)", serverList(tried))
	e.Cause = errors.Join(errs...)
	return e
}

// knockVia runs make_knock (ver is required) and send_knock v1 on server.
func (s *Service) knockVia(ctx context.Context, roomID spec.RoomID, user spec.UserID, server spec.ServerName, content map[string]any) (*event.Event, []json.RawMessage, error) {
	q := url.Values{}
	for _, v := range event.StableRoomVersions() {
		q.Add("ver", v)
	}
	path := "/_matrix/federation/v1/make_knock/" + url.PathEscape(string(roomID)) + "/" + url.PathEscape(string(user)) + "?" + q.Encode()
	var mk makeJoinResponse // same shape: room_version and event
	if err := s.opts.Client.Do(ctx, server, "GET", path, nil, &mk); err != nil {
		return nil, nil, remoteErr(server, err)
	}
	rv := event.LookupRoomVersion(mk.RoomVersion)
	if rv == nil || rv.EventFormat == 1 {
		return nil, nil, spec.NewError(400, spec.ErrIncompatibleRoomVer, "room version %q is not supported for knocking", mk.RoomVersion)
	}
	ev, err := s.fillTemplate(rv, mk.Event, roomID, user, "knock", content)
	if err != nil {
		return nil, nil, err
	}
	path = "/_matrix/federation/v1/send_knock/" + url.PathEscape(string(roomID)) + "/" + url.PathEscape(ev.EventID())
	var resp sendKnockResponse
	if err := s.opts.Client.Do(ctx, server, "PUT", path, json.RawMessage(ev.JSON()), &resp); err != nil {
		return nil, nil, remoteErr(server, err)
	}
	return ev, resp.KnockRoomState, nil
}
