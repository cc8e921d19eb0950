package sync

import (
	"crypto/rand"
	"encoding/hex"
	"maps"
	"strconv"
	"strings"
	stdsync "sync"
)

// Per-connection state (MSC4186 "Connections"): what each connection
// (user, device, conn_id) already has, so an incremental response carries
// only what changed. It lives in memory, bounded; a lost or evicted
// connection answers M_UNKNOWN_POS and the client starts again.

// Bounds on the connections kept: a user has a few (Element X uses one or
// two per device), a server a few per active device.
const (
	maxConnections        = 10000
	maxConnectionsPerUser = 50
)

type connKey struct{ user, device, conn string }

// connection is one client connection: the state as of each position it
// may still resume from (the one it last sent, and the newest).
type connection struct {
	// mu serializes the requests of one connection (a client sends one
	// at a time; a retry waits for the abandoned one).
	mu     stdsync.Mutex
	nonce  string
	next   int64
	states map[int64]*connState
	used   uint64 // LRU clock
}

// connState is what the connection has as of one position.
type connState struct {
	token Token
	// rooms are the user's rooms with a membership, as of token.
	rooms map[string]*roomInfo
	// sent are the rooms the connection has, with what they were sent as.
	sent map[string]sentRoom
	// counts are the list counts sent last.
	counts map[string]int
	// dm are the rooms of the user's m.direct, read at token's account
	// data position.
	dm map[string]bool
	// tags are the user's room tags (room -> tag names) at token's
	// account data position; nil until a list filters on tags. Shared
	// between positions: replaced, never modified.
	tags map[string]map[string]bool
}

// roomInfo is what list sorting and filtering need of a room.
type roomInfo struct {
	membership string
	// bump is the stream position of the room's latest event (the
	// user's membership event for rooms they are not joined to): the
	// recency order and bump_stamp.
	bump int64
	// encrypted and roomType are loaded once when a filter needs them
	// (a room cannot stop being encrypted; its type never changes).
	encrypted, encKnown, typeKnown bool
	roomType                       *string
	// tombstoned is loaded like encrypted.
	tombstoned, tombKnown bool
}

// sentRoom is what the connection got of a room: up to which event
// position, as which membership, with which configuration.
type sentRoom struct {
	pos        int64
	membership string
	config     sentConfig
	// lazy are the members whose current m.room.member the connection
	// has, tracked for $LAZY so they are not sent again (Synapse's
	// "previously returned" lazy members). Shared between positions:
	// replaced, never modified; nil without $LAZY.
	lazy map[string]bool
}

// maxLazyMembers bounds a room's lazy member set: past it, members are
// sent again, which lazy loading allows.
const maxLazyMembers = 10000

// sentConfig is the widest configuration a room was sent with: a room
// moving between lists with narrower configurations is not resent.
type sentConfig struct {
	timelineLimit int
	// required is shared between positions, never modified.
	required map[[2]string]bool
}

func newSentConfig(c *RoomConfig) sentConfig {
	sc := sentConfig{timelineLimit: c.TimelineLimit, required: make(map[[2]string]bool, len(c.RequiredState))}
	for _, rs := range c.RequiredState {
		sc.required[[2]string{rs[0], rs[1]}] = true
	}
	return sc
}

// coversState reports whether every state entry c asks for was asked for
// already.
func (sc sentConfig) coversState(c *RoomConfig) bool {
	for _, rs := range c.RequiredState {
		if !sc.required[[2]string{rs[0], rs[1]}] {
			return false
		}
	}
	return true
}

func (st *connState) clone() *connState {
	n := &connState{token: st.token, rooms: make(map[string]*roomInfo, len(st.rooms)),
		sent: maps.Clone(st.sent), counts: maps.Clone(st.counts), dm: st.dm, tags: st.tags}
	for id, r := range st.rooms {
		c := *r
		n.rooms[id] = &c
	}
	if n.sent == nil {
		n.sent = map[string]sentRoom{}
	}
	return n
}

// connections holds every connection, bounded with least-recently-used
// eviction.
type connections struct {
	mu      stdsync.Mutex
	m       map[connKey]*connection
	perUser map[string]int
	clock   uint64
}

func newConnections() *connections {
	return &connections{m: map[connKey]*connection{}, perUser: map[string]int{}}
}

// start replaces the connection of key with a new, empty one.
func (cs *connections) start(key connKey) *connection {
	var b [8]byte
	rand.Read(b[:])
	c := &connection{nonce: hex.EncodeToString(b[:]), next: 1, states: map[int64]*connState{}}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.clock++
	c.used = cs.clock
	if cs.m[key] == nil {
		cs.perUser[key.user]++
	}
	cs.m[key] = c
	if cs.perUser[key.user] > maxConnectionsPerUser || len(cs.m) > maxConnections {
		cs.evict(key.user) // a scan, only when over a bound
	}
	return c
}

// resume finds the connection of key and the position pos names; false
// when either is unknown.
func (cs *connections) resume(key connKey, pos string) (*connection, int64, bool) {
	nonce, n, ok := parsePos(pos)
	if !ok {
		return nil, 0, false
	}
	cs.mu.Lock()
	c := cs.m[key]
	if c != nil {
		cs.clock++
		c.used = cs.clock
	}
	cs.mu.Unlock()
	if c == nil || c.nonce != nonce {
		return nil, 0, false
	}
	return c, n, true
}

// evict drops the least recently used connections over the bounds:
// first the user's own, then anyone's.
func (cs *connections) evict(user string) {
	for {
		var mine int
		var oldest, oldestMine connKey
		var ou, omu uint64 = ^uint64(0), ^uint64(0)
		for k, c := range cs.m {
			if c.used < ou {
				oldest, ou = k, c.used
			}
			if k.user == user {
				mine++
				if c.used < omu {
					oldestMine, omu = k, c.used
				}
			}
		}
		switch {
		case mine > maxConnectionsPerUser:
			cs.drop(oldestMine)
		case len(cs.m) > maxConnections:
			cs.drop(oldest)
		default:
			return
		}
	}
}

func (cs *connections) drop(key connKey) {
	delete(cs.m, key)
	if cs.perUser[key.user]--; cs.perUser[key.user] <= 0 {
		delete(cs.perUser, key.user)
	}
}

// state returns the state as of position n (nil: the empty state of a
// new connection at n == 0), dropping every other position: the client
// has moved on from older ones, and a newer one it never saw is rebuilt.
// Call with c.mu held.
func (c *connection) state(n int64) (*connState, bool) {
	if n == 0 {
		return &connState{sent: map[string]sentRoom{}}, true
	}
	st, ok := c.states[n]
	if !ok {
		return nil, false
	}
	clear(c.states)
	c.states[n] = st
	return st, true
}

// commit records st as a new position and returns its pos string. Call
// with c.mu held.
func (c *connection) commit(st *connState) string {
	n := c.next
	c.next++
	c.states[n] = st
	return c.nonce + "_" + strconv.FormatInt(n, 10)
}

func parsePos(pos string) (string, int64, bool) {
	nonce, num, ok := strings.Cut(pos, "_")
	if !ok || nonce == "" {
		return "", 0, false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	return nonce, n, err == nil && n > 0
}
