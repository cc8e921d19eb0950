package spaces

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/fedclient"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// Rooms is what the walk reads of local rooms; *rooms.Service satisfies it.
type Rooms interface {
	Room(ctx context.Context, roomID spec.RoomID) (models.Room, *event.RoomVersion, error)
	State(ctx context.Context, roomID spec.RoomID, typ string) ([]*event.Event, error)
	Members(ctx context.Context, roomID spec.RoomID, membership string) ([]string, error)
	Store() *store.Store
}

// Options configures the service.
type Options struct {
	ServerName spec.ServerName
	Rooms      Rooms
	// Client asks other servers for the rooms we do not know (nil: local
	// rooms only).
	Client *fedclient.Client
	// CacheTTL is how long another server's answer is reused (default 5
	// minutes; below zero: not cached); NegativeCacheTTL how long a room
	// no via server could answer for is not asked again (default 1 minute;
	// below zero: not remembered); CacheSize bounds the answers kept
	// (default 1000).
	CacheTTL         time.Duration
	NegativeCacheTTL time.Duration
	CacheSize        int
	Logger           *slog.Logger
	Now              func() time.Time
}

// Service answers hierarchy requests.
type Service struct {
	opts  Options
	log   *slog.Logger
	cache *remoteCache
}

// New builds the service.
func New(opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{opts: opts, log: opts.Logger, cache: newRemoteCache(opts)}
}

// summaryTypes are the state types a summary reads: not the whole state,
// which in a large room is mostly members.
var summaryTypes = []string{"m.room.create", "m.room.name", "m.room.topic", "m.room.canonical_alias",
	"m.room.avatar", "m.room.encryption", "m.room.history_visibility", "m.room.guest_access",
	"m.room.join_rules", "m.space.child"}

// local returns the summary of a room this server holds, or
// store.ErrNotFound wrapped when it does not.
func (s *Service) local(ctx context.Context, roomID spec.RoomID) (Summary, error) {
	room, _, err := s.opts.Rooms.Room(ctx, roomID)
	if err != nil {
		return Summary{}, err
	}
	var state []*event.Event
	for _, typ := range summaryTypes {
		evs, err := s.opts.Rooms.State(ctx, roomID, typ)
		if err != nil {
			return Summary{}, fmt.Errorf("summary of %s: %w", roomID, err)
		}
		state = append(state, evs...)
	}
	joined, err := s.opts.Rooms.Members(ctx, roomID, "join")
	if err != nil {
		return Summary{}, fmt.Errorf("members of %s: %w", roomID, err)
	}
	return summarize(room, state, len(joined)), nil
}

// isNotFound reports a room this server does not know.
func isNotFound(err error) bool {
	var me *spec.Error
	return errors.Is(err, store.ErrNotFound) || (errors.As(err, &me) && me.Status == 404)
}

// visibleTo applies the client rules (space_hierarchy.yaml "rooms"): the
// user is joined or invited, or may join (public, restricted with an
// allowed room they are in), or may knock, or the room is world-readable.
func (s *Service) visibleTo(ctx context.Context, user spec.UserID, sum Summary) (bool, error) {
	switch sum.JoinRule {
	case "public", "knock", "knock_restricted":
		return true, nil
	}
	if sum.WorldReadable {
		return true, nil
	}
	st := s.opts.Rooms.Store()
	m, err := st.CurrentMembership(ctx, sum.RoomID, string(user))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	if m == "join" || m == "invite" {
		return true, nil
	}
	if sum.JoinRule == "restricted" {
		for _, allowed := range sum.AllowedRoomIDs {
			if m, err := st.CurrentMembership(ctx, allowed, string(user)); err == nil && m == "join" {
				return true, nil
			}
		}
	}
	return false, nil
}

// visibleToServer applies the same rules to a requesting server: it may
// peek or join when one of its users is joined, or the room is open to
// everyone, or restricted (the requester filters those per user with
// allowed_room_ids).
func (s *Service) visibleToServer(ctx context.Context, server spec.ServerName, sum Summary) (bool, error) {
	switch sum.JoinRule {
	case "public", "knock", "knock_restricted", "restricted":
		return true, nil
	}
	if sum.WorldReadable {
		return true, nil
	}
	return s.opts.Rooms.Store().HasJoinedOn(ctx, sum.RoomID, string(server))
}

// fedAnswer is GET /_matrix/federation/v1/hierarchy/{roomId}'s body.
type fedAnswer struct {
	Room                 Summary   `json:"room"`
	Children             []Summary `json:"children"`
	InaccessibleChildren []string  `json:"inaccessible_children"`
}

// remote returns another server's answer for a room we do not hold, from
// the cache or else asked of the via servers. The answer is shared: callers
// must not modify it.
func (s *Service) remote(ctx context.Context, roomID spec.RoomID, via []string, suggestedOnly bool) (*fedAnswer, error) {
	if s.opts.Client == nil {
		return nil, spec.NotFound("unknown room %s", roomID)
	}
	key := cacheKey{roomID: string(roomID), suggestedOnly: suggestedOnly}
	if ans, err, ok := s.cache.get(key, via); ok {
		return ans, err
	}
	ans, err := s.ask(ctx, roomID, via, suggestedOnly)
	if ctx.Err() == nil {
		s.cache.put(key, via, ans, err)
	}
	return ans, err
}

// ask asks the via servers, in turn, for a room we do not hold.
func (s *Service) ask(ctx context.Context, roomID spec.RoomID, via []string, suggestedOnly bool) (*fedAnswer, error) {
	path := "/_matrix/federation/v1/hierarchy/" + url.PathEscape(string(roomID))
	if suggestedOnly {
		path += "?suggested_only=true"
	}
	var last error = spec.NotFound("unknown room %s", roomID)
	for _, raw := range via {
		server, err := spec.ParseServerName(raw)
		if err != nil || server == s.opts.ServerName {
			continue
		}
		var ans fedAnswer
		if err := s.opts.Client.Do(ctx, server, "GET", path, nil, &ans); err != nil {
			s.log.Debug("remote hierarchy", "room", roomID, "server", server, "err", err)
			last = err
			continue
		}
		if ans.Room.RoomID != string(roomID) {
			last = fmt.Errorf("%s answered for room %q", server, ans.Room.RoomID)
			continue
		}
		if ans.Room.ChildrenState == nil {
			ans.Room.ChildrenState = []ChildState{}
		}
		return &ans, nil
	}
	return nil, last
}
