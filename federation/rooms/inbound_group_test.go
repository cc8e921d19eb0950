package rooms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// TestAcceptRemoteAll hands a transaction's worth of remote events to the
// room at once: chained messages are committed in groups, and everything
// that cannot wait (a state event, a rejection, a missing prev event, a
// duplicate) gets the same outcome as when the events are accepted one by
// one.
func TestAcceptRemoteAll(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc := startService(t, st)
		room, err := svc.CreateRoom(ctx, CreateRequest{Creator: alice, Preset: "public_chat", Version: "10"})
		if err != nil {
			t.Fatal(err)
		}
		key, _ := keys.Generate()
		r := &remote{t: t, svc: svc, room: room, rv: event.LookupRoomVersion("10"), key: key}
		bob, eve := "@bob:r.test", "@eve:r.test"
		base, _ := st.ForwardExtremities(ctx, string(room))
		join := r.build(bob, "m.room.member", &bob, map[string]any{"membership": "join"}, base)
		if _, err := svc.AcceptRemote(ctx, join); err != nil {
			t.Fatal(err)
		}
		msg := func(sender, body string, prev ...string) *event.Event {
			return r.build(sender, "m.room.message", nil, map[string]any{"body": body}, prev)
		}
		var evs []*event.Event
		var want []error
		add := func(ev *event.Event, err error) *event.Event {
			evs, want = append(evs, ev), append(want, err)
			return ev
		}
		prev := join.EventID()
		for i := range 5 {
			prev = add(msg(bob, fmt.Sprint("m", i), prev), nil).EventID()
		}
		add(msg(eve, "not a member", prev), ErrRejected)
		add(msg(bob, "unknown parent", "$nope"), ErrMissingPrevEvents)
		add(evs[2], nil) // a duplicate of a staged event
		name := add(r.build(bob, "m.room.member", &bob, map[string]any{"membership": "join", "displayname": "Bob"}, []string{prev}), nil)
		prev = name.EventID()
		for i := range 5 {
			prev = add(msg(bob, fmt.Sprint("n", i), prev), nil).EventID()
		}

		errs := svc.AcceptRemoteAll(ctx, evs)
		for i, err := range errs {
			if !errors.Is(err, want[i]) || (err == nil) != (want[i] == nil) {
				t.Errorf("event %d: err = %v, want %v", i, err, want[i])
			}
		}
		if x, _ := st.ForwardExtremities(ctx, string(room)); !slices.Equal(x, []string{prev}) {
			t.Errorf("extremities %v, want [%s]", x, prev)
		}
		if m, _ := st.CurrentStateRow(ctx, string(room), "m.room.member", bob); m.EventID != name.EventID() {
			t.Errorf("bob's member event is %s, want %s", m.EventID, name.EventID())
		}
		var last int64
		for i, ev := range evs {
			if want[i] != nil || (i > 0 && ev == evs[2]) {
				continue
			}
			row, err := st.EventByID(ctx, ev.EventID())
			if err != nil {
				t.Fatalf("event %d not stored: %v", i, err)
			}
			if row.StreamPos <= last || row.StateAfter == 0 || row.SoftFailed || row.Rejected {
				t.Errorf("event %d: stream %d after %d, state after %d, soft-failed %v, rejected %v",
					i, row.StreamPos, last, row.StateAfter, row.SoftFailed, row.Rejected)
			}
			last = row.StreamPos
		}
		// Again: the same outcomes, read from what was stored.
		for i, err := range svc.AcceptRemoteAll(ctx, evs) {
			if !errors.Is(err, want[i]) || (err == nil) != (want[i] == nil) {
				t.Errorf("again, event %d: err = %v, want %v", i, err, want[i])
			}
		}
		// A local send builds on the last remote event.
		sent, err := svc.Send(ctx, room, message(alice, "after"), Txn{})
		if err != nil {
			t.Fatal(err)
		}
		if ev, _, _ := svc.Event(ctx, spec.EventID(sent.EventID)); !slices.Equal(ev.PrevEventIDs(), []string{prev}) {
			t.Errorf("local event's prev_events %v, want [%s]", ev.PrevEventIDs(), prev)
		}
	})
}
