// Package stateres implements Matrix state resolution: v1 (rooms/v1.md), v2
// (rooms/fragments/v2-state-res.md, room versions 2-11) and v2.1
// (rooms/v12.md).
//
// It is pure: events are read through a Loader the caller supplies, asked
// for in batches.
package stateres

import (
	"fmt"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/eventauth"
)

// Event is the view of a PDU state resolution needs.
type Event = eventauth.Event

// StateKey is the (type, state_key) key of a state entry.
type StateKey = eventauth.StateKeyTuple

// StateMap maps (type, state_key) to an event ID.
type StateMap map[StateKey]string

// Loader returns the events with the given IDs. Events it cannot find are
// left out of the map; state resolution then fails with an error. Rejected
// events must not be returned (rooms/v12.md, "Rejected events").
type Loader func(eventIDs []string) (map[string]Event, error)

// Resolve resolves a set of room states into one, with the algorithm the
// room version selects.
func Resolve(rv *event.RoomVersion, stateSets []StateMap, load Loader) (StateMap, error) {
	if rv == nil {
		return nil, fmt.Errorf("state resolution: unknown room version")
	}
	switch len(stateSets) {
	case 0:
		return StateMap{}, nil
	case 1:
		return copyMap(stateSets[0]), nil
	}
	g := newGraph(rv, load)
	switch rv.StateRes {
	case 1:
		return resolveV1(g, stateSets)
	case 2:
		return resolveV2(g, stateSets, false)
	case 3:
		return resolveV2(g, stateSets, true)
	}
	return nil, fmt.Errorf("state resolution: unsupported algorithm %d for room version %s", rv.StateRes, rv.ID)
}

func copyMap(m StateMap) StateMap {
	out := make(StateMap, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// splitStates divides the states into the unconflicted state map (keys in
// every state with the same event) and the conflicted keys with their
// candidate events (rooms/fragments/v2-state-res.md, "Unconflicted state
// map and conflicted state set").
func splitStates(stateSets []StateMap) (StateMap, map[StateKey][]string) {
	unconflicted := StateMap{}
	conflicted := map[StateKey][]string{}
	keys := map[StateKey]bool{}
	for _, s := range stateSets {
		for k := range s {
			keys[k] = true
		}
	}
	for k := range keys {
		var ids []string
		seen := map[string]bool{}
		inAll := true
		for _, s := range stateSets {
			id, ok := s[k]
			if !ok {
				inAll = false
				continue
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		if inAll && len(ids) == 1 {
			unconflicted[k] = ids[0]
		} else {
			conflicted[k] = ids
		}
	}
	return unconflicted, conflicted
}

func key(eventType, stateKey string) StateKey {
	return StateKey{EventType: eventType, StateKey: stateKey}
}
