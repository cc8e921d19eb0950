package stateres

import (
	"fmt"

	"github.com/kabarchat/kabar/federation/eventauth"
)

// resolveV2 is the algorithm of rooms/fragments/v2-state-res.md; with
// fromEmpty it is the v2.1 variant of rooms/v12.md (conflicted state
// subgraph in the full conflicted set, iterative auth checks of power
// events starting from an empty state).
func resolveV2(g *graph, stateSets []StateMap, fromEmpty bool) (StateMap, error) {
	unconflicted, conflictedKeys := splitStates(stateSets)
	if len(conflictedKeys) == 0 {
		return unconflicted, nil
	}
	full, err := g.fullConflictedSet(stateSets, conflictedKeys, fromEmpty)
	if err != nil {
		return nil, err
	}
	powerList, err := g.powerEvents(full)
	if err != nil {
		return nil, err
	}
	sorted, err := g.reverseTopologicalPowerOrder(powerList)
	if err != nil {
		return nil, err
	}
	partial := copyMap(unconflicted)
	if fromEmpty {
		partial = StateMap{}
	}
	if partial, err = g.iterativeAuthChecks(partial, sorted); err != nil {
		return nil, err
	}
	inPower := make(map[string]bool, len(powerList))
	for _, id := range powerList {
		inPower[id] = true
	}
	var rest []string
	for id := range full {
		if !inPower[id] {
			rest = append(rest, id)
		}
	}
	if rest, err = g.mainlineOrder(rest, partial[key(eventauth.TypePowerLevels, "")]); err != nil {
		return nil, err
	}
	if partial, err = g.iterativeAuthChecks(partial, rest); err != nil {
		return nil, err
	}
	for k, id := range unconflicted {
		partial[k] = id
	}
	return partial, nil
}

// fullConflictedSet is the conflicted state set, plus the auth difference,
// plus (v2.1) the conflicted state subgraph.
func (g *graph) fullConflictedSet(stateSets []StateMap, conflictedKeys map[StateKey][]string,
	withSubgraph bool) (map[string]bool, error) {
	full := map[string]bool{}
	for _, ids := range conflictedKeys {
		for _, id := range ids {
			full[id] = true
		}
	}
	count := map[string]int{}
	for i, s := range stateSets {
		roots := make([]string, 0, len(s))
		for _, id := range s {
			roots = append(roots, id)
		}
		chain, err := g.authChain(roots)
		if err != nil {
			return nil, fmt.Errorf("auth chain of state set %d: %w", i, err)
		}
		for id := range chain {
			count[id]++
		}
	}
	// Auth difference: in some auth chains but not all.
	for id, n := range count {
		if n < len(stateSets) {
			full[id] = true
		}
	}
	if withSubgraph {
		conflicted := map[string]bool{}
		for _, ids := range conflictedKeys {
			for _, id := range ids {
				conflicted[id] = true
			}
		}
		for id := range g.conflictedSubgraph(conflicted) {
			full[id] = true
		}
	}
	return full, nil
}

// isPowerEvent: power levels, join rules, and kicks and bans (membership
// leave or ban whose sender is not the target).
func isPowerEvent(ev Event) bool {
	sk := ev.StateKey()
	if sk == nil {
		return false
	}
	switch ev.Type() {
	case eventauth.TypePowerLevels, eventauth.TypeJoinRules:
		return true
	case eventauth.TypeMember:
		if ev.Sender() == *sk {
			return false
		}
		m := membership(ev)
		return m == "leave" || m == "ban"
	}
	return false
}

// powerEvents is step 1's set X: the power events of the full conflicted
// set and the events of their auth chains that are in the full conflicted
// set.
func (g *graph) powerEvents(full map[string]bool) ([]string, error) {
	x := map[string]bool{}
	var roots []string
	for id := range full {
		if isPowerEvent(g.get(id)) {
			x[id] = true
			roots = append(roots, id)
		}
	}
	// The union of the power events' auth chains is one walk from all of them.
	chain, err := g.authChain(roots)
	if err != nil {
		return nil, err
	}
	for a := range chain {
		if full[a] {
			x[a] = true
		}
	}
	out := make([]string, 0, len(x))
	for id := range x {
		out = append(out, id)
	}
	return out, nil
}
