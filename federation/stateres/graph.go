package stateres

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/eventauth"
)

// graph caches the events of one resolution and walks their auth_events.
type graph struct {
	rv     *event.RoomVersion
	load   Loader
	events map[string]Event
}

func newGraph(rv *event.RoomVersion, load Loader) *graph {
	return &graph{rv: rv, load: load, events: map[string]Event{}}
}

// fetch loads every listed event not yet cached, in one call.
func (g *graph) fetch(ids []string) error {
	var missing []string
	seen := map[string]bool{}
	for _, id := range ids {
		if _, ok := g.events[id]; !ok && !seen[id] {
			seen[id] = true
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	got, err := g.load(missing)
	if err != nil {
		return fmt.Errorf("load %d events: %w", len(missing), err)
	}
	for _, id := range missing {
		ev, ok := got[id]
		if !ok || ev == nil {
			return fmt.Errorf("event %s is not available", id)
		}
		g.events[id] = ev
	}
	return nil
}

// get returns a cached event (fetch first).
func (g *graph) get(id string) Event { return g.events[id] }

// authChain returns every event reachable from roots through auth_events,
// excluding the roots unless another root cites them
// (rooms/fragments/v2-state-res.md, "Auth chain"). It loads one frontier
// at a time.
func (g *graph) authChain(roots []string) (map[string]bool, error) {
	chain := map[string]bool{}
	if err := g.fetch(roots); err != nil {
		return nil, err
	}
	frontier := roots
	for len(frontier) > 0 {
		var next []string
		for _, id := range frontier {
			for _, a := range g.get(id).AuthEventIDs() {
				if !chain[a] {
					chain[a] = true
					next = append(next, a)
				}
			}
		}
		if err := g.fetch(next); err != nil {
			return nil, err
		}
		frontier = next
	}
	return chain, nil
}

// createEvent returns the room's create event as cited by ev, or, where the
// room ID names it (RoomIDFromCreate), the one the room ID derives from.
func (g *graph) createEvent(ev Event) (Event, error) {
	if g.rv.RoomIDFromCreate {
		id := "$" + strings.TrimPrefix(ev.RoomID(), "!")
		if err := g.fetch([]string{id}); err != nil {
			return nil, fmt.Errorf("create event of %s: %w", ev.EventID(), err)
		}
		return g.get(id), nil
	}
	return g.authEventOfType(ev, eventauth.TypeCreate)
}

// authEventOfType returns ev's auth event of that type (state key ""), or nil.
func (g *graph) authEventOfType(ev Event, typ string) (Event, error) {
	ids := ev.AuthEventIDs()
	if err := g.fetch(ids); err != nil {
		return nil, fmt.Errorf("auth events of %s: %w", ev.EventID(), err)
	}
	for _, id := range ids {
		a := g.get(id)
		if a.Type() == typ && a.StateKey() != nil && *a.StateKey() == "" {
			return a, nil
		}
	}
	return nil, nil
}

// senderPower is the sender's power level according to the event's own auth
// events (rooms/fragments/v2-state-res.md, "Reverse topological power
// ordering").
func (g *graph) senderPower(ev Event) (int64, error) {
	create, err := g.createEvent(ev)
	if err != nil {
		return 0, err
	}
	pl, err := g.authEventOfType(ev, eventauth.TypePowerLevels)
	if err != nil {
		return 0, err
	}
	return eventauth.PowerLevelsFromState(create, pl).UserLevel(ev.Sender()), nil
}

// conflictedSubgraph returns the events on auth_events paths between
// conflicted events, endpoints included (rooms/v12.md, "Conflicted state
// subgraph"): those reachable from a conflicted event that themselves reach
// one. All events involved are already cached by the auth chain walk.
func (g *graph) conflictedSubgraph(conflicted map[string]bool) map[string]bool {
	reaches := map[string]bool{}
	visited := map[string]bool{}
	var visit func(id string) bool
	visit = func(id string) bool {
		if visited[id] {
			return reaches[id]
		}
		visited[id] = true
		r := false
		if ev := g.get(id); ev != nil {
			for _, a := range ev.AuthEventIDs() {
				if visit(a) || conflicted[a] {
					r = true
				}
			}
		}
		reaches[id] = r
		return r
	}
	sub := map[string]bool{}
	for id := range conflicted {
		sub[id] = true
		visit(id)
	}
	// Every visited event is reachable from a conflicted one.
	for id := range visited {
		if reaches[id] {
			sub[id] = true
		}
	}
	return sub
}
