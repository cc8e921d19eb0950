package receiver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/membership"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
)

// Bounds of fetching the state at an event: a peer cannot make us resolve
// many states or fetch without end.
const (
	maxStatePrevs  = 10
	maxStateEvents = 2000
	// fetchEachLimit: beyond this many missing events one /state request
	// per prev event replaces an /event request per event.
	fetchEachLimit = 50
)

// stateIDsResponse is GET /state_ids's answer.
type stateIDsResponse struct {
	PDUIDs       []string `json:"pdu_ids"`
	AuthChainIDs []string `json:"auth_chain_ids"`
}

// fillState is the last resort for a gap /get_missing_events could not
// close (server-server-api "Checks performed on receipt of a PDU": the
// state at the event comes from its prev events' states, which a server
// lacking them requests from the origin). For each prev event it asks
// /state_ids for the state before it, fetches the events it lacks with
// /event (each checked for format, signatures and content hash), adds the
// prev event itself when it is a state event, and lets the room service
// accept ev on the resolution of those states. The timeline keeps the hole.
func (r *Receiver) fillState(ctx context.Context, origin spec.ServerName, ev *event.Event) error {
	prevs := ev.PrevEventIDs()
	if len(prevs) > maxStatePrevs {
		return rooms.ErrMissingPrevEvents
	}
	answers := make([]stateIDsResponse, len(prevs))
	need := slices.Clone(ev.AuthEventIDs())
	for i, p := range prevs {
		path := "/_matrix/federation/v1/state_ids/" + url.PathEscape(ev.RoomID()) + "?event_id=" + url.QueryEscape(p)
		if err := r.opts.Client.Do(ctx, origin, "GET", path, nil, &answers[i]); err != nil {
			r.log.Info("state_ids failed", "origin", origin, "event", p, "err", err)
			return rooms.ErrMissingPrevEvents
		}
		need = append(need, p)
		need = append(need, answers[i].PDUIDs...)
		need = append(need, answers[i].AuthChainIDs...)
	}
	slices.Sort(need)
	need = slices.Compact(need)
	keys, fetched, err := r.fetchEvents(ctx, origin, ev, prevs, need)
	if err != nil {
		return err
	}
	sets := make([][]string, len(prevs))
	for i, p := range prevs {
		sets[i] = stateAfter(p, answers[i].PDUIDs, keys)
	}
	var supply []*event.Event
	for _, e := range fetched {
		if e.IsState() || !slices.Contains(prevs, e.EventID()) {
			supply = append(supply, e)
		}
	}
	_, err = r.opts.Rooms.AcceptOnState(ctx, ev, sets, supply, false)
	return err
}

// stateAfter is the state after prev: the state before it, with prev in
// place of its (type, state_key) if prev is a state event.
func stateAfter(prev string, before []string, keys map[string]*[2]string) []string {
	pk := keys[prev]
	out := make([]string, 0, len(before)+1)
	for _, id := range before {
		if k := keys[id]; k == nil || (pk != nil && *k == *pk) {
			continue
		}
		out = append(out, id)
	}
	if pk != nil {
		out = append(out, prev)
	}
	return out
}

// fetchEvents learns the (type, state_key) of every needed event (nil for
// non-state ones), from the store or else from the origin's /event, and
// returns the fetched events.
func (r *Receiver) fetchEvents(ctx context.Context, origin spec.ServerName, ev *event.Event, prevs, ids []string) (map[string]*[2]string, []*event.Event, error) {
	keys := make(map[string]*[2]string, len(ids))
	known := map[string]bool{}
	for chunk := range slices.Chunk(ids, 500) {
		rows, err := r.opts.Store.EventsByID(ctx, chunk)
		if err != nil {
			return nil, nil, err
		}
		for _, row := range rows {
			known[row.EventID] = true
			if row.StateKey != nil && !row.Rejected {
				keys[row.EventID] = &[2]string{row.Type, *row.StateKey}
			}
		}
	}
	var missing []string
	for _, id := range ids {
		if !known[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > maxStateEvents {
		return nil, nil, fmt.Errorf("%w: the state at %s needs %d events", rooms.ErrMissingPrevEvents, ev.EventID(), len(missing))
	}
	var out []*event.Event
	got := map[string]*event.Event{}
	if len(missing) > fetchEachLimit {
		got = r.fetchStates(ctx, origin, ev, prevs, missing)
	}
	for _, id := range missing {
		e, ok := got[id]
		if !ok {
			var err error
			if e, err = r.fetchEvent(ctx, origin, ev, id); err != nil {
				return nil, nil, err
			}
		}
		if e.IsState() {
			keys[id] = &[2]string{e.Type(), *e.StateKey()}
		}
		out = append(out, e)
	}
	return keys, out, nil
}

// fetchEvent is GET /event/{eventId}: one PDU of ev's room, verified.
func (r *Receiver) fetchEvent(ctx context.Context, origin spec.ServerName, ev *event.Event, id string) (*event.Event, error) {
	var resp struct {
		PDUs []json.RawMessage `json:"pdus"`
	}
	if err := r.opts.Client.Do(ctx, origin, "GET", "/_matrix/federation/v1/event/"+url.PathEscape(id), nil, &resp); err != nil {
		r.log.Info("event fetch failed", "origin", origin, "event", id, "err", err)
		return nil, rooms.ErrMissingPrevEvents
	}
	if len(resp.PDUs) != 1 {
		return nil, fmt.Errorf("%w: /event/%s answered %d PDUs", rooms.ErrMissingPrevEvents, id, len(resp.PDUs))
	}
	e, err := r.checkPDU(ctx, ev.Version(), resp.PDUs[0])
	if err != nil {
		return nil, err
	}
	if e.EventID() != id || e.RoomID() != ev.RoomID() {
		return nil, spec.Forbidden("/event/%s answered event %s of room %s", id, e.EventID(), e.RoomID())
	}
	return e, nil
}

// fetchStates asks /state (full PDUs: the state and its auth chain) at each
// prev event, keeping the verified events of the room that are missing.
// Whatever it does not bring is then fetched one by one.
func (r *Receiver) fetchStates(ctx context.Context, origin spec.ServerName, ev *event.Event, prevs, missing []string) map[string]*event.Event {
	want := make(map[string]bool, len(missing))
	for _, id := range missing {
		want[id] = true
	}
	got := map[string]*event.Event{}
	for _, p := range prevs {
		var resp struct {
			PDUs      []json.RawMessage `json:"pdus"`
			AuthChain []json.RawMessage `json:"auth_chain"`
		}
		path := "/_matrix/federation/v1/state/" + url.PathEscape(ev.RoomID()) + "?event_id=" + url.QueryEscape(p)
		if err := r.opts.Client.Do(ctx, origin, "GET", path, nil, &resp); err != nil {
			r.log.Info("state fetch failed", "origin", origin, "event", p, "err", err)
			continue
		}
		if len(resp.PDUs)+len(resp.AuthChain) > 2*maxStateEvents {
			continue
		}
		for _, raw := range slices.Concat(resp.PDUs, resp.AuthChain) {
			// Parse first: only the events we lack cost a signature check.
			parsed, err := event.Parse(ev.Version(), raw)
			if err != nil || !want[parsed.EventID()] || got[parsed.EventID()] != nil || parsed.RoomID() != ev.RoomID() {
				continue
			}
			if e, err := membership.VerifyParsed(ctx, r.opts.Ring, parsed); err == nil {
				got[e.EventID()] = e
			}
		}
	}
	return got
}
