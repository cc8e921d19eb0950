package presence

import (
	"context"
	"testing"
	"time"

	clientsync "github.com/kabarchat/kabar/clientapi/sync"
)

func TestTransitions(t *testing.T) {
	now := time.Unix(1000, 0)
	var woken []string
	var published []Status
	tr := New(Options{Enabled: true, IdleTimeout: time.Minute, OfflineAfter: 2 * time.Minute,
		Now: func() time.Time { return now }, Wake: func(u ...string) { woken = append(woken, u...) },
		Peers: func(_ context.Context, u string) ([]string, error) {
			return map[string][]string{"@a:x": {"@b:x"}, "@b:x": {"@a:x"}}[u], nil
		},
		Publish: func(_ context.Context, u string, st Status, peers []string) {
			if u == "@a:x" && len(peers) == 1 && peers[0] == "@b:x" {
				published = append(published, st)
			}
		}})
	ctx := context.Background()
	// expire as Run applies it: every change wakes and publishes.
	expire := func() {
		changed, _ := tr.expire()
		for _, u := range changed {
			tr.wake(ctx, u)
		}
	}
	steps := []struct {
		name    string
		do      func()
		want    string
		bumped  bool
		advance time.Duration
	}{
		{"sync marks online", func() { tr.Synced(ctx, "@a:x", "") }, Online, true, 0},
		{"sync again is no change", func() { tr.Synced(ctx, "@a:x", "") }, Online, false, 0},
		{"set_presence offline leaves it", func() { tr.Synced(ctx, "@a:x", Offline) }, Online, false, 0},
		{"idle becomes unavailable", expire, Unavailable, true, 90 * time.Second},
		{"sync keeps idle unavailable", func() { tr.Synced(ctx, "@a:x", "") }, Unavailable, false, 0},
		{"activity is online", func() { tr.Active(ctx, "@a:x") }, Online, true, 0},
		{"no syncs becomes offline", expire, Offline, true, 3 * time.Minute},
		{"explicit status", func() { m := "hi"; tr.Set(ctx, "@a:x", Unavailable, &m) }, Unavailable, true, 0},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		before, pubs := tr.Current(), len(published)
		s.do()
		if got := tr.Get("@a:x").Presence; got != s.want {
			t.Errorf("%s: presence %s, want %s", s.name, got, s.want)
		}
		if bumped := tr.Current() > before; bumped != s.bumped {
			t.Errorf("%s: stream moved %v, want %v", s.name, bumped, s.bumped)
		}
		// Only changes go over federation, never repeated online refreshes.
		if pub := len(published) > pubs; pub != s.bumped {
			t.Errorf("%s: published %v, want %v", s.name, pub, s.bumped)
		} else if pub && published[len(published)-1].Presence != s.want {
			t.Errorf("%s: published %+v", s.name, published[len(published)-1])
		}
	}
	var out clientsync.Extensions
	if err := tr.Fill(ctx, clientsync.ExtensionQuery{UserID: "@b:x", Since: 0, Upto: tr.Current()}, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Presence) != 1 {
		t.Errorf("fill: %d events", len(out.Presence))
	}
	out = clientsync.Extensions{}
	tr.Fill(ctx, clientsync.ExtensionQuery{UserID: "@c:x", Since: 0, Upto: tr.Current()}, &out)
	if len(out.Presence) != 0 {
		t.Errorf("a stranger got %d events", len(out.Presence))
	}
	if len(woken) == 0 {
		t.Error("nobody woken")
	}
}
