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

// maxGapFill bounds the events fetched to fill one gap.
const maxGapFill = 20

// acceptWithGaps accepts ev, first filling a gap in its prev_events with
// /get_missing_events from the origin (server-server-api "Backfilling and
// retrieving missing events"). The fetch is bounded; a gap it cannot close
// leaves the event refused with ErrMissingPrevEvents.
func (r *Receiver) acceptWithGaps(ctx context.Context, origin spec.ServerName, ev *event.Event) error {
	_, err := r.opts.Rooms.AcceptRemote(ctx, ev)
	if !errors.Is(err, rooms.ErrMissingPrevEvents) || r.opts.Client == nil {
		return err
	}
	extr, ferr := r.opts.Store.ForwardExtremities(ctx, ev.RoomID())
	if ferr != nil {
		return ferr
	}
	req := map[string]any{"earliest_events": extr, "latest_events": []string{ev.EventID()}, "limit": maxGapFill}
	var resp struct {
		Events []json.RawMessage `json:"events"`
	}
	path := "/_matrix/federation/v1/get_missing_events/" + url.PathEscape(ev.RoomID())
	if cerr := r.opts.Client.Do(ctx, origin, "POST", path, req, &resp); cerr != nil {
		r.log.Info("get_missing_events failed", "origin", origin, "room", ev.RoomID(), "err", cerr)
		return err
	}
	if len(resp.Events) > maxGapFill {
		resp.Events = resp.Events[:maxGapFill]
	}
	var missing []*event.Event
	for _, raw := range resp.Events {
		m, verr := r.checkPDU(ctx, ev.Version(), raw)
		if verr == nil && m.RoomID() == ev.RoomID() {
			missing = append(missing, m)
		}
	}
	// Oldest first, so each one's prev events are there before it.
	slices.SortFunc(missing, func(a, b *event.Event) int { return int(a.Depth() - b.Depth()) })
	for _, m := range missing {
		if _, aerr := r.opts.Rooms.AcceptRemote(ctx, m); aerr != nil {
			r.log.Info("missing event refused", "event", m.EventID(), "err", aerr)
		}
	}
	_, err = r.opts.Rooms.AcceptRemote(ctx, ev)
	return err
}
