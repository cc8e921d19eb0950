package e2ee

import (
	"context"

	"github.com/kabarchat/kabar/models/spec"
)

// roomMembers is what the join handling needs of a room's joined members:
// their distinct remote servers and whether one of them is ours.
type roomMembers struct {
	servers  []spec.ServerName
	hasLocal bool
}

// memberCache holds the rooms' member summaries for one scan of the event
// stream, so each room's member list is read once per scan, not once per
// join. The current state read at the first join already includes every
// later join of the scan, as re-reading it per join did.
type memberCache map[string]*roomMembers

func (c memberCache) load(ctx context.Context, s *Service, roomID string) (*roomMembers, error) {
	if r := c[roomID]; r != nil {
		return r, nil
	}
	users, err := s.st.MembersWith(ctx, roomID, "join")
	if err != nil {
		return nil, err
	}
	r := &roomMembers{}
	seen := map[spec.ServerName]bool{}
	for _, u := range users {
		if s.isLocal(u) {
			r.hasLocal = true
		}
		if srv := serverOf(u); srv != "" && !seen[srv] {
			seen[srv] = true
			r.servers = append(r.servers, srv)
		}
	}
	c[roomID] = r
	return r, nil
}
