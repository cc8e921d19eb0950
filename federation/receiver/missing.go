package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
)

// Bounds of gap filling: a peer cannot make us fetch without end. Five
// rounds of 100 close the gap a catching-up sender leaves after an outage
// of up to 500 events; a longer gap falls back to the state at the event
// (fillState).
const (
	maxGapRounds = 5
	gapRoundSize = 100
)

// acceptWithGaps accepts ev, first filling a gap in its prev_events with
// /get_missing_events from the origin (server-server-api "Backfilling and
// retrieving missing events"), walking back from ev round by round until
// every fetched event connects to what we have. If the gap cannot be closed
// within the bounds, the state before ev is fetched with /state_ids so ev
// can still be accepted (fillState); the timeline keeps the hole, which
// /backfill can fill later.
func (r *Receiver) acceptWithGaps(ctx context.Context, origin spec.ServerName, ev *event.Event) error {
	_, err := r.opts.Rooms.AcceptRemote(ctx, ev)
	if !errors.Is(err, rooms.ErrMissingPrevEvents) || r.opts.Client == nil {
		return err
	}
	fetched, frontier := r.fetchGap(ctx, origin, ev)
	slices.SortStableFunc(fetched, func(a, b *event.Event) int { return int(a.Depth() - b.Depth()) })
	for _, m := range fetched { // oldest first, so prev events come first
		if _, aerr := r.opts.Rooms.AcceptRemote(ctx, m); aerr != nil && !errors.Is(aerr, rooms.ErrMissingPrevEvents) {
			r.log.Info("missing event refused", "event", m.EventID(), "err", aerr)
		}
	}
	_, err = r.opts.Rooms.AcceptRemote(ctx, ev)
	if !errors.Is(err, rooms.ErrMissingPrevEvents) {
		return err
	}
	r.log.Info("gap not closed, fetching state", "room", ev.RoomID(), "event", ev.EventID(), "frontier", len(frontier))
	return r.fillState(ctx, origin, ev)
}

// fetchGap runs the /get_missing_events rounds. It returns the verified
// events of the room it got and the IDs it still could not connect.
func (r *Receiver) fetchGap(ctx context.Context, origin spec.ServerName, ev *event.Event) ([]*event.Event, []string) {
	extr, err := r.opts.Store.ForwardExtremities(ctx, ev.RoomID())
	if err != nil {
		return nil, nil
	}
	got := map[string]*event.Event{}
	latest := []string{ev.EventID()}
	var out []*event.Event
	for round := 0; round < maxGapRounds && len(latest) > 0; round++ {
		req := map[string]any{"earliest_events": extr, "latest_events": latest, "limit": gapRoundSize}
		var resp struct {
			Events []json.RawMessage `json:"events"`
		}
		path := "/_matrix/federation/v1/get_missing_events/" + url.PathEscape(ev.RoomID())
		if cerr := r.opts.Client.Do(ctx, origin, "POST", path, req, &resp); cerr != nil {
			r.log.Info("get_missing_events failed", "origin", origin, "room", ev.RoomID(), "err", cerr)
			break
		}
		if len(resp.Events) > gapRoundSize {
			resp.Events = resp.Events[:gapRoundSize]
		}
		added := 0
		for _, raw := range resp.Events {
			m, verr := r.checkPDU(ctx, ev.Version(), raw)
			if verr == nil && m.RoomID() == ev.RoomID() && got[m.EventID()] == nil {
				got[m.EventID()] = m
				out = append(out, m)
				added++
			}
		}
		if added == 0 {
			break
		}
		latest = r.unconnected(ctx, got)
	}
	return out, latest
}

// unconnected lists the fetched events with a prev event that is neither
// fetched nor stored: where the next round walks back from.
func (r *Receiver) unconnected(ctx context.Context, got map[string]*event.Event) []string {
	var want []string
	for _, e := range got {
		for _, p := range e.PrevEventIDs() {
			if got[p] == nil {
				want = append(want, p)
			}
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	rows, err := r.opts.Store.EventsByID(ctx, want)
	if err != nil {
		return nil
	}
	known := map[string]bool{}
	for _, row := range rows {
		known[row.EventID] = true
	}
	var out []string
	for id, e := range got {
		if slices.ContainsFunc(e.PrevEventIDs(), func(p string) bool { return got[p] == nil && !known[p] }) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}
