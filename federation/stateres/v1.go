package stateres

import (
	"bytes"
	"crypto/sha1"
	"sort"

	"github.com/kabarchat/kabar/federation/eventauth"
)

// resolveV1 is the room version 1 algorithm (rooms/v1.md, "State
// resolution"): start from the non-conflicting entries, then settle power
// levels, join rules and memberships by walking each conflict from the
// oldest event while the next one is allowed, and finally pick the newest
// allowed event for every other conflict.
func resolveV1(g *graph, stateSets []StateMap) (StateMap, error) {
	r := StateMap{}
	conflicts := map[StateKey][]string{}
	var all []string
	for _, s := range stateSets {
		for k, id := range s {
			all = append(all, id)
			if cur, ok := r[k]; ok && cur != id {
				conflicts[k] = appendUnique(appendUnique(conflicts[k], cur), id)
			}
			r[k] = id
		}
	}
	for k := range conflicts {
		delete(r, k)
	}
	if err := g.fetch(all); err != nil {
		return nil, err
	}
	keys := make([]StateKey, 0, len(conflicts))
	for k := range conflicts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].EventType != keys[j].EventType {
			return keys[i].EventType < keys[j].EventType
		}
		return keys[i].StateKey < keys[j].StateKey
	})
	for _, typ := range []string{eventauth.TypePowerLevels, eventauth.TypeJoinRules, eventauth.TypeMember} {
		for _, k := range keys {
			if k.EventType == typ {
				g.walkV1(r, k, conflicts[k])
			}
		}
	}
	for _, k := range keys {
		switch k.EventType {
		case eventauth.TypePowerLevels, eventauth.TypeJoinRules, eventauth.TypeMember:
			continue
		}
		g.pickV1(r, k, conflicts[k])
	}
	return r, nil
}

// walkV1 sorts by ascending depth then descending sha1(event_id), takes the
// first event, then each next one while it is allowed in r.
func (g *graph) walkV1(r StateMap, k StateKey, ids []string) {
	sort.Slice(ids, func(i, j int) bool {
		a, b := g.get(ids[i]), g.get(ids[j])
		if a.Depth() != b.Depth() {
			return a.Depth() < b.Depth()
		}
		return bytes.Compare(sha(ids[i]), sha(ids[j])) > 0
	})
	r[k] = ids[0]
	for _, id := range ids[1:] {
		if !g.allowedIn(r, g.get(id)) {
			return
		}
		r[k] = id
	}
}

// pickV1 takes the event with the highest depth, then lowest sha1(event_id),
// that is allowed in r.
func (g *graph) pickV1(r StateMap, k StateKey, ids []string) {
	sort.Slice(ids, func(i, j int) bool {
		a, b := g.get(ids[i]), g.get(ids[j])
		if a.Depth() != b.Depth() {
			return a.Depth() > b.Depth()
		}
		return bytes.Compare(sha(ids[i]), sha(ids[j])) < 0
	})
	for _, id := range ids {
		if g.allowedIn(r, g.get(id)) {
			r[k] = id
			return
		}
	}
}

// allowedIn checks ev against the state r. Events r names were all fetched
// from the state sets.
func (g *graph) allowedIn(r StateMap, ev Event) bool {
	auth := eventauth.AuthEvents{}
	for _, k := range eventauth.StateKeysNeeded(ev) {
		if id, ok := r[k]; ok {
			if e := g.get(id); e != nil {
				auth[k] = e
			}
		}
	}
	return eventauth.Check(ev, auth) == nil
}

func sha(id string) []byte {
	h := sha1.Sum([]byte(id))
	return h[:]
}

func appendUnique(list []string, id string) []string {
	for _, have := range list {
		if have == id {
			return list
		}
	}
	return append(list, id)
}
