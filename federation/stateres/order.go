package stateres

import (
	"container/heap"
	"encoding/json"
	"math"
	"sort"

	"github.com/kabarchat/kabar/federation/eventauth"
)

func membership(ev Event) string {
	var c struct {
		Membership string `json:"membership"`
	}
	_ = json.Unmarshal(ev.Content(), &c)
	return c.Membership
}

// powerItem is one vertex in Kahn's algorithm.
type powerItem struct {
	id    string
	power int64
	ts    int64
}

// powerHeap pops the smallest vertex: greater sender power first, then
// smaller origin_server_ts, then smaller event ID.
type powerHeap []powerItem

func (h powerHeap) Len() int { return len(h) }
func (h powerHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.power != b.power {
		return a.power > b.power
	}
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	return a.id < b.id
}
func (h powerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *powerHeap) Push(x any)   { *h = append(*h, x.(powerItem)) }
func (h *powerHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

// reverseTopologicalPowerOrder sorts ids with Kahn's algorithm over their
// auth_events edges (within the set), earliest first, choosing the smallest
// candidate at each step (rooms/fragments/v2-state-res.md).
func (g *graph) reverseTopologicalPowerOrder(ids []string) ([]string, error) {
	in := make(map[string]bool, len(ids))
	for _, id := range ids {
		in[id] = true
	}
	indegree := make(map[string]int, len(ids))
	children := map[string][]string{}
	items := make(map[string]powerItem, len(ids))
	for _, id := range ids {
		ev := g.get(id)
		power, err := g.senderPower(ev)
		if err != nil {
			return nil, err
		}
		items[id] = powerItem{id: id, power: power, ts: ev.OriginServerTS()}
		for _, a := range ev.AuthEventIDs() {
			if in[a] {
				indegree[id]++
				children[a] = append(children[a], id)
			}
		}
	}
	h := &powerHeap{}
	for _, id := range ids {
		if indegree[id] == 0 {
			*h = append(*h, items[id])
		}
	}
	heap.Init(h)
	out := make([]string, 0, len(ids))
	for h.Len() > 0 {
		it := heap.Pop(h).(powerItem)
		out = append(out, it.id)
		for _, c := range children[it.id] {
			if indegree[c]--; indegree[c] == 0 {
				heap.Push(h, items[c])
			}
		}
	}
	return out, nil
}

// mainlineOrder sorts ids by mainline position based on the power levels
// event plID (earlier mainline first), then origin_server_ts, then event ID
// (rooms/fragments/v2-state-res.md, "Mainline ordering").
func (g *graph) mainlineOrder(ids []string, plID string) ([]string, error) {
	mainline := map[string]int{}
	for i, cur := 0, plID; cur != ""; i++ {
		if err := g.fetch([]string{cur}); err != nil {
			return nil, err
		}
		mainline[cur] = i
		next, err := g.authEventOfType(g.get(cur), eventauth.TypePowerLevels)
		if err != nil {
			return nil, err
		}
		cur = ""
		if next != nil {
			cur = next.EventID()
		}
	}
	pos := make(map[string]int, len(ids))
	for _, id := range ids {
		p, err := g.mainlinePosition(g.get(id), mainline)
		if err != nil {
			return nil, err
		}
		pos[id] = p
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := ids[i], ids[j]
		if pos[a] != pos[b] {
			return pos[a] > pos[b]
		}
		ta, tb := g.get(a).OriginServerTS(), g.get(b).OriginServerTS()
		if ta != tb {
			return ta < tb
		}
		return a < b
	})
	return ids, nil
}

// mainlinePosition walks e1, e2, ... (each the power levels auth event of
// the previous; e0 itself is not included) to the first mainline event.
func (g *graph) mainlinePosition(ev Event, mainline map[string]int) (int, error) {
	for {
		next, err := g.authEventOfType(ev, eventauth.TypePowerLevels)
		if err != nil {
			return 0, err
		}
		if next == nil {
			return math.MaxInt, nil
		}
		if i, ok := mainline[next.EventID()]; ok {
			return i, nil
		}
		ev = next
	}
}

// iterativeAuthChecks applies each event, in order, to state if the
// authorization rules allow it; missing auth state entries come from the
// event's own auth events (rooms/fragments/v2-state-res.md, "Iterative auth
// checks").
func (g *graph) iterativeAuthChecks(state StateMap, ids []string) (StateMap, error) {
	for _, id := range ids {
		ev := g.get(id)
		if ev.StateKey() == nil {
			continue
		}
		auth, err := g.authStateFor(ev, state)
		if err != nil {
			return nil, err
		}
		if eventauth.Check(ev, auth) == nil {
			state[key(ev.Type(), *ev.StateKey())] = id
		}
	}
	return state, nil
}

// authStateFor builds the state an event is checked against: the entries
// the auth events selection names, from state where present, else from the
// event's auth events; plus the create event the room ID names (v12).
func (g *graph) authStateFor(ev Event, state StateMap) (eventauth.AuthEvents, error) {
	authIDs := ev.AuthEventIDs()
	needed := eventauth.StateKeysNeeded(ev)
	fromState := make([]string, 0, len(needed))
	for _, k := range needed {
		if id, ok := state[k]; ok {
			fromState = append(fromState, id)
		}
	}
	if err := g.fetch(append(fromState, authIDs...)); err != nil {
		return nil, err
	}
	auth := eventauth.AuthEvents{}
	for _, id := range authIDs {
		a := g.get(id)
		if a.StateKey() != nil {
			auth[key(a.Type(), *a.StateKey())] = a
		}
	}
	for _, k := range needed {
		if id, ok := state[k]; ok {
			auth[k] = g.get(id)
		}
	}
	if g.rv.RoomIDFromCreate {
		create, err := g.createEvent(ev)
		if err != nil {
			return nil, err
		}
		auth[key(eventauth.TypeCreate, "")] = create
	}
	return auth, nil
}
