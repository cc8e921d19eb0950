package membership

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/fedclient"
	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
)

// Options configures the federation membership service.
type Options struct {
	ServerName spec.ServerName
	Key        *keys.SigningKey
	Ring       *keys.Ring
	Client     *fedclient.Client
	Rooms      *rooms.Service
	Logger     *slog.Logger
}

// Service joins, leaves and invites across servers.
type Service struct {
	opts     Options
	log      *slog.Logger
	profiles profileCache // query.go
	backfill backfills    // backfill.go
}

// New builds the service.
func New(opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{opts: opts, log: opts.Logger}
}

// ErrNoServer: no resident server let us join.
var ErrNoServer = errors.New("no server could join us to the room")

// makeJoinResponse is make_join's answer.
type makeJoinResponse struct {
	RoomVersion string          `json:"room_version"`
	Event       json.RawMessage `json:"event"`
}

// sendJoinResponse is send_join v2's answer.
type sendJoinResponse struct {
	AuthChain []json.RawMessage `json:"auth_chain"`
	State     []json.RawMessage `json:"state"`
	Event     json.RawMessage   `json:"event"`
}

// JoinRemote joins user to a room that resident servers host, trying each
// of servers in turn ("Joining Rooms": make_join, then send_join v2), and
// stores the room state they return.
func (s *Service) JoinRemote(ctx context.Context, roomID spec.RoomID, user spec.UserID, servers []spec.ServerName, content map[string]any) error {
	var errs []error
	var tried []spec.ServerName
	// The inviter and the servers known from the room's last state come
	// after the caller's choice (a rejoin or an accepted invite).
	for _, server := range s.candidateServers(ctx, roomID, user, servers) {
		if server == s.opts.ServerName {
			continue
		}
		tried = append(tried, server)
		err := s.joinVia(ctx, roomID, user, server, content)
		if err == nil {
			return nil
		}
		s.log.Info("remote join failed", "room", roomID, "via", server, "err", err)
		errs = append(errs, fmt.Errorf("via %s: %w", server, err))
		var me *spec.Error
		if errors.As(err, &me) && me.Status == 403 {
			return me // refused by the room's rules: other servers would agree
		}
	}
	if len(errs) == 0 {
		return spec.NotFound("no server to join %s through", roomID)
	}
	// The per-server failures are logged above and kept as the cause; the
	// client learns only which servers were tried (DESIGN.md rule 3).
	e := spec.NewError(502, spec.ErrUnknown, "%v (tried %s)", ErrNoServer, serverList(tried))
	e.Cause = errors.Join(errs...)
	return e
}

func (s *Service) joinVia(ctx context.Context, roomID spec.RoomID, user spec.UserID, server spec.ServerName, content map[string]any) error {
	q := url.Values{}
	for _, v := range event.StableRoomVersions() {
		q.Add("ver", v)
	}
	path := "/_matrix/federation/v1/make_join/" + url.PathEscape(string(roomID)) + "/" + url.PathEscape(string(user)) + "?" + q.Encode()
	var mj makeJoinResponse
	if err := s.opts.Client.Do(ctx, server, "GET", path, nil, &mj); err != nil {
		return remoteErr(server, err)
	}
	rv := event.LookupRoomVersion(mj.RoomVersion)
	if rv == nil {
		return spec.NewError(400, spec.ErrIncompatibleRoomVer, "room version %q is not supported for joining", mj.RoomVersion)
	}
	ev, err := s.fillTemplate(rv, mj.Event, roomID, user, "join", content)
	if err != nil {
		return err
	}
	var sj sendJoinResponse
	path = "/_matrix/federation/v2/send_join/" + url.PathEscape(string(roomID)) + "/" + url.PathEscape(ev.EventID())
	if err := s.opts.Client.Do(ctx, server, "PUT", path, json.RawMessage(ev.JSON()), &sj); err != nil {
		return remoteErr(server, err)
	}
	if len(sj.Event) > 0 {
		// A restricted join comes back countersigned by the resident server.
		signed, err := VerifyPDU(ctx, s.opts.Ring, rv, sj.Event)
		if err != nil || signed.EventID() != ev.EventID() {
			return spec.Forbidden("the resident server returned a different join event")
		}
		ev = signed
	}
	state, err := VerifyPDUs(ctx, s.opts.Ring, rv, sj.State)
	if err != nil {
		return fmt.Errorf("send_join state: %w", err)
	}
	chain, err := VerifyPDUs(ctx, s.opts.Ring, rv, sj.AuthChain)
	if err != nil {
		return fmt.Errorf("send_join auth chain: %w", err)
	}
	_, err = s.opts.Rooms.ImportJoin(ctx, ev, state, chain)
	return matrixErr(err)
}

// matrixErr turns the room service's rejection into 403 M_FORBIDDEN.
func matrixErr(err error) error {
	var me *spec.Error
	if err == nil || errors.As(err, &me) {
		return err
	}
	if errors.Is(err, rooms.ErrRejected) {
		return spec.Forbidden("%v", err)
	}
	return err
}

// fillTemplate turns a make_join/make_leave template into our signed event.
// Only the fields the protocol lets the resident choose are taken from it;
// room, sender, type, state key and membership are ours.
func (s *Service) fillTemplate(rv *event.RoomVersion, raw json.RawMessage, roomID spec.RoomID, user spec.UserID, membership string, content map[string]any) (*event.Event, error) {
	var t struct {
		PrevEvents []json.RawMessage `json:"prev_events"`
		AuthEvents []json.RawMessage `json:"auth_events"`
		Depth      int64             `json:"depth"`
		Content    map[string]any    `json:"content"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, spec.BadJSON("bad event template: %v", err)
	}
	hashes := map[string][32]byte{}
	prev, err := templateRefs(rv, t.PrevEvents, hashes)
	if err != nil {
		return nil, err
	}
	auth, err := templateRefs(rv, t.AuthEvents, hashes)
	if err != nil {
		return nil, err
	}
	c := map[string]any{}
	for k, v := range content {
		c[k] = v
	}
	if via, ok := t.Content["join_authorised_via_users_server"]; ok && membership == "join" {
		c["join_authorised_via_users_server"] = via
	}
	c["membership"] = membership
	sk := string(user)
	b := &event.Builder{RoomID: string(roomID), Sender: string(user), Type: "m.room.member", StateKey: &sk,
		Content: c, PrevEvents: prev, AuthEvents: auth, RefHashes: hashes, Depth: t.Depth,
		OriginServerTS: time.Now().UnixMilli()}
	ev, err := b.Build(rv, string(s.opts.ServerName), s.opts.Key.ID, s.opts.Key.PrivateKey())
	if err != nil {
		return nil, event.MatrixError(err)
	}
	return ev, nil
}

// templateRefs reads a template's prev_events or auth_events: event IDs,
// or in event format 1 (room versions 1 and 2, rooms/v1 "Event format")
// [event_id, {"sha256": reference hash}] pairs, whose hashes go to hashes so
// the built event lists them again.
func templateRefs(rv *event.RoomVersion, refs []json.RawMessage, hashes map[string][32]byte) ([]string, error) {
	ids := make([]string, 0, len(refs))
	for _, ref := range refs {
		var id string
		if rv.EventFormat != 1 {
			if err := json.Unmarshal(ref, &id); err != nil {
				return nil, spec.BadJSON("bad event template: event references must be event IDs")
			}
			ids = append(ids, id)
			continue
		}
		var pair []json.RawMessage
		var h struct {
			SHA256 string `json:"sha256"`
		}
		if json.Unmarshal(ref, &pair) != nil || len(pair) != 2 || json.Unmarshal(pair[0], &id) != nil || json.Unmarshal(pair[1], &h) != nil {
			return nil, spec.BadJSON("bad event template: event references must be [event_id, hashes] pairs")
		}
		ids = append(ids, id)
		if h.SHA256 == "" {
			continue // Synapse sends {}: kept as {} (event.Builder refs)
		}
		sum, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(h.SHA256, "="))
		if err != nil || len(sum) != 32 {
			return nil, spec.BadJSON("bad event template: bad reference hash for %s", id)
		}
		hashes[id] = [32]byte(sum)
	}
	return ids, nil
}

// remoteErr passes a remote Matrix error on with its status and errcode;
// any other failure (DNS, TCP, TLS, a 5xx, a bad body) becomes a clean
// 502/504 naming the server, with the transport text kept only as cause.
func remoteErr(server spec.ServerName, err error) error {
	var he *fedclient.HTTPError
	if errors.As(err, &he) && he.Errcode != "" && he.Status >= 400 && he.Status < 500 {
		return spec.NewError(he.Status, spec.Errcode(he.Errcode), "remote server: %s", he.Message)
	}
	var me *spec.Error
	if errors.As(err, &me) {
		return err
	}
	return spec.Unreachable(string(server), err)
}

// serverList joins server names for an error message.
func serverList(servers []spec.ServerName) string {
	names := make([]string, len(servers))
	for i, s := range servers {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}
