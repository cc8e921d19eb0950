// Package clientevent turns stored PDUs into the events clients see
// (client-server-api "Room Event Format", ClientEvent): the fields clients
// need, unsigned.age, unsigned.transaction_id for the sending device, and
// unsigned.redacted_because for redacted events. Every endpoint that returns
// room events (/rooms/{roomId}/event, /state, /members, /sync, /messages,
// /context) formats them here so they look the same everywhere.
package clientevent

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models"
)

// Event is a ClientEvent.
type Event struct {
	Content        json.RawMessage `json:"content"`
	EventID        string          `json:"event_id"`
	OriginServerTS int64           `json:"origin_server_ts"`
	RoomID         string          `json:"room_id,omitempty"`
	Sender         string          `json:"sender"`
	StateKey       *string         `json:"state_key,omitempty"`
	Type           string          `json:"type"`
	// Redacts is kept top-level for clients in every room version (from v11
	// it is also in content).
	Redacts  string   `json:"redacts,omitempty"`
	Unsigned Unsigned `json:"unsigned"`
}

// Unsigned is the ClientEvent's UnsignedData.
type Unsigned struct {
	Age             int64  `json:"age"`
	TransactionID   string `json:"transaction_id,omitempty"`
	RedactedBecause *Event `json:"redacted_because,omitempty"`
	// Relations are the bundled aggregations (aggregations.go).
	Relations *Relations `json:"m.relations,omitempty"`
}

// Viewer is who the events are formatted for: transaction_id only goes to
// the device that sent the event.
type Viewer struct {
	UserID   string
	DeviceID string
}

// Formatter formats stored events for a viewer.
type Formatter struct {
	Rooms *rooms.Service
	// Now is the clock for unsigned.age; time.Now if nil.
	Now func() time.Time
	// Bundles shares the aggregation reads between requests (nil: none).
	Bundles *BundleCache
}

// One formats a single parsed event with its stored row.
func (f *Formatter) One(ctx context.Context, v Viewer, ev *event.Event, row models.Event) (Event, error) {
	out, err := f.Many(ctx, v, []*event.Event{ev}, []models.Event{row})
	if err != nil {
		return Event{}, err
	}
	return out[0], nil
}

// Rows parses and formats stored rows (as served: redacted if redacted).
func (f *Formatter) Rows(ctx context.Context, v Viewer, rows []models.Event) ([]Event, error) {
	evs, err := f.Rooms.ParseRows(ctx, rows)
	if err != nil {
		return nil, err
	}
	return f.Many(ctx, v, evs, rows)
}

// Many formats parsed events with their rows (same length and order).
func (f *Formatter) Many(ctx context.Context, v Viewer, evs []*event.Event, rows []models.Event) ([]Event, error) {
	var own, redactions []string
	for _, r := range rows {
		if r.Sender == v.UserID && v.DeviceID != "" {
			own = append(own, r.EventID)
		}
		if r.RedactedBy != "" {
			redactions = append(redactions, r.RedactedBy)
		}
	}
	txns := map[string]string{}
	if len(own) > 0 {
		var err error
		if txns, err = f.Rooms.Store().TxnIDsOf(ctx, v.UserID, v.DeviceID, own); err != nil {
			return nil, err
		}
	}
	because, err := f.redactions(ctx, v, redactions)
	if err != nil {
		return nil, err
	}
	now := f.now()
	out := make([]Event, len(evs))
	for i, ev := range evs {
		out[i] = Format(ev, now)
		if out[i].RoomID == "" { // v12 create events carry no room_id
			out[i].RoomID = rows[i].RoomID
		}
		out[i].Unsigned.TransactionID = txns[ev.EventID()]
		if rb, ok := because[rows[i].RedactedBy]; ok {
			out[i].Unsigned.RedactedBecause = rb
		}
	}
	if err := f.bundle(ctx, v, rows, out); err != nil {
		return nil, fmt.Errorf("bundle aggregations: %w", err)
	}
	return out, nil
}

func (f *Formatter) redactions(ctx context.Context, v Viewer, ids []string) (map[string]*Event, error) {
	out := map[string]*Event{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := f.Rooms.Store().EventsByID(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load redaction events: %w", err)
	}
	evs, err := f.Rooms.ParseRows(ctx, rows)
	if err != nil {
		return nil, err
	}
	now := f.now()
	for i, ev := range evs {
		e := Format(ev, now)
		out[rows[i].EventID] = &e
	}
	return out, nil
}

func (f *Formatter) now() int64 {
	if f.Now != nil {
		return f.Now().UnixMilli()
	}
	return time.Now().UnixMilli()
}

// Format is the pure part: the ClientEvent fields of one event at time now
// (milliseconds).
func Format(ev *event.Event, now int64) Event {
	return Event{
		Content:        json.RawMessage(ev.Content()),
		EventID:        ev.EventID(),
		OriginServerTS: ev.OriginServerTS(),
		RoomID:         ev.RoomID(),
		Sender:         ev.Sender(),
		StateKey:       ev.StateKey(),
		Type:           ev.Type(),
		Redacts:        ev.Redacts(),
		Unsigned:       Unsigned{Age: max(now-ev.OriginServerTS(), 0)},
	}
}
