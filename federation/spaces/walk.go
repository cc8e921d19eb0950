package spaces

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/kabarchat/kabar/models/spec"
)

// Bounds of one request: a page is at most maxLimit rooms, the tree is
// read at most maxDepth deep, one walk looks at no more than maxVisited
// rooms and asks other servers at most maxRemote times (space_hierarchy.yaml:
// "Servers should apply a default value, and impose a maximum value").
const (
	defaultLimit = 50
	maxLimit     = 100
	maxDepth     = 10
	maxVisited   = 1000
	maxRemote    = 20
)

// Query is a client's GET /hierarchy request.
type Query struct {
	SuggestedOnly bool
	Limit         int // 0: the default
	MaxDepth      int // -1: the default
	From          string
}

// Page is one page of the walk.
type Page struct {
	Rooms     []Summary `json:"rooms"`
	NextBatch string    `json:"next_batch,omitempty"`
}

// node is a room waiting in the walk.
type node struct {
	roomID string
	depth  int
	via    []string
}

// walk is the state of one depth-first walk.
type walk struct {
	s       *Service
	user    spec.UserID
	q       Query
	seen    map[string]bool
	known   map[string]Summary // remote children summaries, by room ID
	remotes int
}

// Hierarchy pages through the space tree below root depth first, keeping
// the rooms the user may see (space_hierarchy.yaml). A page token is the
// offset into the walk plus the parameters it was made with, which must
// not change while paginating.
func (s *Service) Hierarchy(ctx context.Context, user spec.UserID, root spec.RoomID, q Query) (*Page, error) {
	offset, err := q.normalize()
	if err != nil {
		return nil, err
	}
	w := &walk{s: s, user: user, q: q, seen: map[string]bool{}, known: map[string]Summary{}}
	rooms, err := w.run(ctx, root, offset+q.Limit+1)
	if err != nil {
		return nil, err
	}
	page := &Page{Rooms: []Summary{}}
	if offset < len(rooms) {
		page.Rooms = rooms[offset:min(len(rooms), offset+q.Limit)]
	}
	if len(rooms) > offset+q.Limit {
		page.NextBatch = q.token(offset + q.Limit)
	}
	return page, nil
}

// normalize applies defaults and bounds and decodes From into an offset.
func (q *Query) normalize() (int, error) {
	switch {
	case q.Limit < 0:
		return 0, spec.InvalidParam("limit must be greater than zero")
	case q.Limit == 0:
		q.Limit = defaultLimit
	}
	q.Limit = min(q.Limit, maxLimit)
	if q.MaxDepth < 0 {
		q.MaxDepth = maxDepth
	}
	q.MaxDepth = min(q.MaxDepth, maxDepth)
	if q.From == "" {
		return 0, nil
	}
	parts := strings.Split(q.From, "_")
	if len(parts) != 3 || parts[0] == "" || parts[0][0] != 'h' {
		return 0, spec.InvalidParam("from is not a token of this server")
	}
	offset, err1 := strconv.Atoi(parts[0][1:])
	depth, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || offset < 0 || offset > maxVisited {
		return 0, spec.InvalidParam("from is not a token of this server")
	}
	if depth != q.MaxDepth || parts[2] != strconv.FormatBool(q.SuggestedOnly) {
		return 0, spec.InvalidParam("suggested_only and max_depth cannot change on paginated requests")
	}
	return offset, nil
}

func (q *Query) token(offset int) string {
	return fmt.Sprintf("h%d_%d_%t", offset, q.MaxDepth, q.SuggestedOnly)
}

// run walks until it has want rooms, the tree ends, or a bound is hit.
// The root must be visible: 403 otherwise (space_hierarchy.yaml).
func (w *walk) run(ctx context.Context, root spec.RoomID, want int) ([]Summary, error) {
	stack := []node{{roomID: string(root), via: rootVia(root)}}
	var out []Summary
	for len(stack) > 0 && len(out) < want && len(w.seen) < maxVisited {
		n := stack[0]
		stack = stack[1:]
		if w.seen[n.roomID] {
			continue
		}
		w.seen[n.roomID] = true
		sum, err := w.load(ctx, n)
		if err != nil && n.depth > 0 && isNotFound(err) {
			continue // a child nobody could tell us about is left out
		}
		if err != nil {
			return nil, w.rootError(err, n)
		}
		ok, err := w.s.visibleTo(ctx, w.user, sum)
		if err != nil {
			return nil, err
		}
		if !ok {
			if n.depth == 0 {
				return nil, spec.Forbidden("you cannot view room %s", root)
			}
			continue
		}
		out = append(out, sum)
		if n.depth < w.q.MaxDepth {
			var next []node
			for _, c := range children(sum.ChildrenState, w.q.SuggestedOnly) {
				next = append(next, node{roomID: c.roomID, depth: n.depth + 1, via: c.via})
			}
			stack = append(next, stack...)
		}
	}
	return out, nil
}

// rootError turns a failure to load the root into the spec's 403; a
// child's transport failure is logged and the child skipped by the caller.
func (w *walk) rootError(err error, n node) error {
	if n.depth == 0 && isNotFound(err) {
		return spec.Forbidden("room %s is unknown or you cannot view it", n.roomID)
	}
	return err
}

// load reads a room locally, else from the remote summaries already
// learned (when its own children are not needed), else over federation.
func (w *walk) load(ctx context.Context, n node) (Summary, error) {
	roomID, err := spec.ParseRoomID(n.roomID)
	if err != nil {
		return Summary{}, spec.NotFound("invalid room ID %q", n.roomID)
	}
	sum, err := w.s.local(ctx, roomID)
	if err == nil || !isNotFound(err) {
		return sum, err
	}
	known, haveKnown := w.known[n.roomID]
	if haveKnown && (known.RoomType != "m.space" || n.depth >= w.q.MaxDepth) {
		known.ChildrenState = []ChildState{}
		return known, nil
	}
	if w.remotes >= maxRemote {
		return Summary{}, spec.NotFound("room %s: remote lookups exhausted", roomID)
	}
	w.remotes++
	ans, err := w.s.remote(ctx, roomID, n.via, w.q.SuggestedOnly)
	if err != nil {
		if haveKnown {
			known.ChildrenState = []ChildState{}
			return known, nil
		}
		w.s.log.Debug("hierarchy child unavailable", "room", roomID, "err", err)
		return Summary{}, spec.NotFound("room %s unavailable", roomID)
	}
	for _, c := range ans.Children {
		w.known[c.RoomID] = c
	}
	for _, id := range ans.InaccessibleChildren {
		w.seen[id] = true
	}
	return ans.Room, nil
}

// rootVia is where to ask about a root we do not hold: the server in the
// room ID, for room versions that have one.
func rootVia(roomID spec.RoomID) []string {
	if _, server, ok := strings.Cut(string(roomID), ":"); ok {
		return []string{server}
	}
	return nil
}
