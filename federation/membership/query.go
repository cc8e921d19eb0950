package membership

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"time"

	"github.com/kabarchat/kabar/models/spec"
)

// Remote profiles are cached briefly: a client showing a member list asks
// for the same profiles again and again, and a profile changes rarely (a
// change also arrives as a new member event).
const (
	profileTTL     = time.Minute
	profileEntries = 1024
)

// profileCache holds remote profiles (and "no such user") for profileTTL.
type profileCache struct {
	mu      sync.Mutex
	entries map[spec.UserID]profileEntry
}

type profileEntry struct {
	displayName, avatarURL string
	err                    error
	at                     time.Time
}

func (c *profileCache) get(u spec.UserID, now time.Time) (profileEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[u]
	if !ok || now.Sub(e.at) > profileTTL {
		return profileEntry{}, false
	}
	return e, true
}

func (c *profileCache) put(u spec.UserID, e profileEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= profileEntries {
		c.entries = map[spec.UserID]profileEntry{} // crude bound: start over
	}
	c.entries[u] = e
}

// RemoteProfile asks the user's server for their profile (GET
// /_matrix/federation/v1/query/profile, server-server-api "Querying for
// information"). A 404 from the remote is remembered like a profile.
func (s *Service) RemoteProfile(ctx context.Context, user spec.UserID) (string, string, error) {
	now := time.Now()
	if e, ok := s.profiles.get(user, now); ok {
		return e.displayName, e.avatarURL, e.err
	}
	var resp struct {
		DisplayName string `json:"displayname"`
		AvatarURL   string `json:"avatar_url"`
	}
	path := "/_matrix/federation/v1/query/profile?user_id=" + url.QueryEscape(string(user))
	err := s.opts.Client.Do(ctx, user.Server(), "GET", path, nil, &resp)
	if err != nil {
		err = remoteErr(user.Server(), err)
		var me *spec.Error
		if !errors.As(err, &me) || me.Status != 404 {
			return "", "", err // transient: not cached
		}
	}
	s.profiles.put(user, profileEntry{displayName: resp.DisplayName, avatarURL: resp.AvatarURL, err: err, at: now})
	return resp.DisplayName, resp.AvatarURL, err
}

// PublicRoomsQuery is a room directory query sent to another server
// (server-server-api "Public Room Directory").
type PublicRoomsQuery struct {
	Limit     *int      `json:"limit,omitempty"`
	Since     string    `json:"since,omitempty"`
	Term      string    `json:"-"`
	RoomTypes []*string `json:"-"`
}

// PublicRoomsPage is a directory page as the remote answered it.
type PublicRoomsPage struct {
	Chunk                  []map[string]any `json:"chunk"`
	NextBatch              string           `json:"next_batch,omitempty"`
	PrevBatch              string           `json:"prev_batch,omitempty"`
	TotalRoomCountEstimate *int             `json:"total_room_count_estimate,omitempty"`
}

// RemotePublicRooms reads another server's room directory (POST
// /_matrix/federation/v1/publicRooms, which carries the filter).
func (s *Service) RemotePublicRooms(ctx context.Context, server spec.ServerName, q PublicRoomsQuery) (*PublicRoomsPage, error) {
	body := map[string]any{}
	if q.Limit != nil {
		body["limit"] = *q.Limit
	}
	if q.Since != "" {
		body["since"] = q.Since
	}
	filter := map[string]any{}
	if q.Term != "" {
		filter["generic_search_term"] = q.Term
	}
	if q.RoomTypes != nil {
		filter["room_types"] = q.RoomTypes
	}
	if len(filter) > 0 {
		body["filter"] = filter
	}
	var page PublicRoomsPage
	if err := s.opts.Client.Do(ctx, server, "POST", "/_matrix/federation/v1/publicRooms", body, &page); err != nil {
		return nil, remoteErr(server, err)
	}
	if page.Chunk == nil {
		page.Chunk = []map[string]any{}
	}
	return &page, nil
}
