package rooms

import (
	"sync"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models"
)

// parseCacheSize bounds the parsed events kept: enough for the recent
// timelines that every /sync woken by a message, and an initial sync of a
// user in hundreds of rooms, format again and again.
const parseCacheSize = 8192

// parseCache keeps parsed stored events. Parsing recomputes the event ID
// (canonical JSON and a SHA-256 of the whole event), and a message to a
// room with a thousand long-polls was parsed a thousand times. A stored
// event's JSON never changes; a redaction only sets RedactedBy, which is
// part of the key. event.Event is immutable, so entries are shared.
type parseCache struct {
	mu    sync.Mutex
	m     map[parseKey]*event.Event
	order []parseKey
}

type parseKey struct {
	eventID  string
	redacted bool
}

// serve is the package's serve, through the cache.
func (c *parseCache) serve(rv *event.RoomVersion, row models.Event) (*event.Event, error) {
	key := parseKey{row.EventID, row.RedactedBy != ""}
	c.mu.Lock()
	ev, ok := c.m[key]
	c.mu.Unlock()
	if ok && ev.Version() == rv {
		return ev, nil
	}
	ev, err := serve(rv, row)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[parseKey]*event.Event, parseCacheSize)
	}
	if _, ok := c.m[key]; !ok {
		c.m[key] = ev
		c.order = append(c.order, key)
		if len(c.order) > parseCacheSize {
			delete(c.m, c.order[0])
			c.order = c.order[1:]
		}
	}
	return ev, nil
}
