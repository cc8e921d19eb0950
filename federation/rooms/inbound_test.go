package rooms

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// remote builds events of a remote server r.test on top of chosen prev events.
type remote struct {
	t     *testing.T
	svc   *Service
	room  spec.RoomID
	rv    *event.RoomVersion
	key   *keys.SigningKey
	depth int64
}

func (r *remote) build(sender, typ string, stateKey *string, content map[string]any, prev []string) *event.Event {
	r.t.Helper()
	ctx := context.Background()
	var auth []string
	for _, k := range [][2]string{{"m.room.create", ""}, {"m.room.power_levels", ""}, {"m.room.join_rules", ""}, {"m.room.member", sender}} {
		if ev, err := r.svc.StateEvent(ctx, r.room, k[0], k[1]); err == nil {
			if k[0] == "m.room.create" && r.rv.RoomIDFromCreate {
				continue
			}
			if k[0] == "m.room.join_rules" && typ != "m.room.member" {
				continue
			}
			auth = append(auth, ev.EventID())
		}
	}
	r.depth += 100
	b := &event.Builder{RoomID: string(r.room), Sender: sender, Type: typ, StateKey: stateKey, Content: content,
		PrevEvents: prev, AuthEvents: auth, Depth: r.depth}
	ev, err := b.Build(r.rv, "r.test", r.key.ID, r.key.PrivateKey())
	if err != nil {
		r.t.Fatal(err)
	}
	return ev
}

func TestAcceptRemote(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc := startService(t, st)
		room, err := svc.CreateRoom(ctx, CreateRequest{Creator: alice, Preset: "public_chat", Version: "10"})
		if err != nil {
			t.Fatal(err)
		}
		key, _ := keys.Generate()
		r := &remote{t: t, svc: svc, room: room, rv: event.LookupRoomVersion("10"), key: key}
		extr := func() []string {
			x, err := st.ForwardExtremities(ctx, string(room))
			if err != nil {
				t.Fatal(err)
			}
			return x
		}
		bob := "@bob:r.test"
		join := r.build(bob, "m.room.member", &bob, map[string]any{"membership": "join"}, extr())
		beforeBan := []string{join.EventID()}
		eve := "@eve:r.test"

		steps := []struct {
			name     string
			ev       func() *event.Event
			wantErr  error
			softFail bool
		}{
			{"remote join", func() *event.Event { return join }, nil, false},
			{"message from the joined user", func() *event.Event {
				return r.build(bob, "m.room.message", nil, map[string]any{"body": "hi"}, extr())
			}, nil, false},
			{"message from a non-member", func() *event.Event {
				return r.build(eve, "m.room.message", nil, map[string]any{"body": "x"}, extr())
			}, ErrRejected, false},
			{"unknown prev events", func() *event.Event {
				return r.build(bob, "m.room.message", nil, map[string]any{"body": "x"}, []string{"$nope"})
			}, ErrMissingPrevEvents, false},
			{"after a local ban, built on the state before it: soft-failed", func() *event.Event {
				// Built (auth events included) while bob was joined.
				ev := r.build(bob, "m.room.message", nil, map[string]any{"body": "sneaky"}, beforeBan)
				if _, err := svc.Membership(ctx, room, alice, spec.UserID(bob), "ban", "", nil); err != nil {
					t.Fatal(err)
				}
				return ev
			}, nil, true},
		}
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				ev := s.ev()
				acc, err := svc.AcceptRemote(ctx, ev)
				if !errors.Is(err, s.wantErr) {
					t.Fatalf("err = %v, want %v", err, s.wantErr)
				}
				if err != nil {
					return
				}
				if acc.SoftFailed != s.softFail {
					t.Fatalf("soft-failed = %v", acc.SoftFailed)
				}
				if inExtr := slices.Contains(extr(), ev.EventID()); inExtr == s.softFail {
					t.Errorf("forward extremity = %v, want %v", inExtr, !s.softFail)
				}
				// Idempotent: accepting it again returns the same outcome.
				again, err := svc.AcceptRemote(ctx, ev)
				if err != nil || again.SoftFailed != acc.SoftFailed {
					t.Errorf("second accept: %+v %v", again, err)
				}
			})
		}
		if m, _ := st.CurrentStateRow(ctx, string(room), "m.room.member", bob); m.Membership != "ban" {
			t.Errorf("bob's membership is %q, want ban", m.Membership)
		}
	})
}

func TestAcceptRemoteFork(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc := startService(t, st)
		room, _ := svc.CreateRoom(ctx, CreateRequest{Creator: alice, Preset: "public_chat", Version: "10"})
		key, _ := keys.Generate()
		r := &remote{t: t, svc: svc, room: room, rv: event.LookupRoomVersion("10"), key: key}
		bob := "@bob:r.test"
		base, _ := st.ForwardExtremities(ctx, string(room))
		join := r.build(bob, "m.room.member", &bob, map[string]any{"membership": "join"}, base)
		if _, err := svc.AcceptRemote(ctx, join); err != nil {
			t.Fatal(err)
		}
		// Alice and bob write concurrently on the same parent: two tips.
		if _, err := svc.Send(ctx, room, message(alice, "local"), Txn{}); err != nil {
			t.Fatal(err)
		}
		fork := r.build(bob, "m.room.message", nil, map[string]any{"body": "remote"}, []string{join.EventID()})
		if _, err := svc.AcceptRemote(ctx, fork); err != nil {
			t.Fatal(err)
		}
		if x, _ := st.ForwardExtremities(ctx, string(room)); len(x) != 2 {
			t.Fatalf("extremities %v, want two tips", x)
		}
		// The next local event merges both tips, and bob is still a member.
		sent, err := svc.Send(ctx, room, message(alice, "merge"), Txn{})
		if err != nil {
			t.Fatal(err)
		}
		ev, _, _ := svc.Event(ctx, spec.EventID(sent.EventID))
		if len(ev.PrevEventIDs()) != 2 {
			t.Errorf("merge event prev_events %v", ev.PrevEventIDs())
		}
		if m, _ := st.CurrentStateRow(ctx, string(room), "m.room.member", bob); m.Membership != "join" {
			t.Errorf("bob's membership %q", m.Membership)
		}
	})
}
