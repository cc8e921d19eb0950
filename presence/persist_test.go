package presence

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	clientsync "github.com/kabarchat/kabar/clientapi/sync"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// countingStore counts the writes that reach the database and can fail
// them.
type countingStore struct {
	*store.Store
	mu     sync.Mutex
	writes int
	rows   int
	fail   bool
}

func (c *countingStore) SavePresence(ctx context.Context, rows []models.PresenceState) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return errors.New("database down")
	}
	if len(rows) > 0 {
		c.writes++
		c.rows += len(rows)
	}
	return c.Store.SavePresence(ctx, rows)
}

func peersOf(_ context.Context, u string) ([]string, error) {
	return map[string][]string{"@a:x": {"@b:x"}, "@b:x": {"@a:x", "@c:x", "@d:x"}}[u], nil
}

// fillFor returns the m.presence contents userID's sync gets in (since, now].
func fillFor(t *testing.T, tr *Tracker, userID string, since int64) map[string]Status {
	t.Helper()
	var out clientsync.Extensions
	if err := tr.Fill(context.Background(), clientsync.ExtensionQuery{UserID: userID, Since: since, Upto: tr.Current()}, &out); err != nil {
		t.Fatal(err)
	}
	got := map[string]Status{}
	for _, raw := range out.Presence {
		var ev struct {
			Sender  string `json:"sender"`
			Content Status `json:"content"`
		}
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		got[ev.Sender] = ev.Content
	}
	return got
}

// TestPresenceSurvivesRestart: status messages and last active times are
// written behind and loaded by the next tracker on the same database;
// users saved online come back unavailable, and a sync within the idle
// timeout makes them online again.
func TestPresenceSurvivesRestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Unix(1_000_000, 0)
		cs := &countingStore{Store: st}
		opts := Options{Enabled: true, IdleTimeout: 5 * time.Minute, OfflineAfter: 2 * time.Minute, Peers: peersOf,
			Store: cs, FlushInterval: time.Hour, Now: func() time.Time { return now }}
		tr1 := New(opts)
		if err := tr1.Load(ctx); err != nil {
			t.Fatal(err)
		}
		meeting, away := "in a meeting", "away for a week"
		tr1.Synced(ctx, "@d:x", "") // online, then idle for good before the restart
		now = now.Add(10 * time.Minute)
		tr1.Set(ctx, "@a:x", Online, &meeting)
		tr1.Set(ctx, "@c:x", Offline, &away)
		for range 100 { // syncs and events are not database writes
			tr1.Synced(ctx, "@a:x", "")
			tr1.Active(ctx, "@a:x")
		}
		if cs.writes != 0 {
			t.Fatalf("%d writes before the flush", cs.writes)
		}

		// Graceful shutdown: Persist flushes once more.
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error)
		go func() { done <- tr1.Persist(runCtx) }()
		stop()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if cs.writes != 1 || cs.rows != 3 {
			t.Fatalf("shutdown flush: %d writes of %d rows, want 1 of 3", cs.writes, cs.rows)
		}
		oldToken := tr1.Current()

		now = now.Add(30 * time.Second)
		tr2 := New(opts)
		if err := tr2.Load(ctx); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			user, presence string
			msg            *string
			ago            int64
		}{
			{"@a:x", Unavailable, &meeting, 30_000},
			{"@c:x", Offline, &away, 30_000},
			{"@d:x", Unavailable, nil, 630_000},
			{"@nobody:x", Offline, nil, -1},
		}
		for _, tc := range cases {
			got := tr2.Get(tc.user)
			if got.Presence != tc.presence || !sameMsg(got.StatusMsg, tc.msg) {
				t.Errorf("%s after restart: %+v", tc.user, got)
			}
			if tc.ago >= 0 && (got.LastActiveAgo == nil || *got.LastActiveAgo != tc.ago) {
				t.Errorf("%s last_active_ago %v, want %d", tc.user, got.LastActiveAgo, tc.ago)
			}
		}

		// /sync shows it: an initial sync, and a token from before the
		// restart (which sees the online -> unavailable change).
		if tr2.Current() <= oldToken {
			t.Fatalf("stream %d not past the old token %d", tr2.Current(), oldToken)
		}
		for _, since := range []int64{0, oldToken} {
			got := fillFor(t, tr2, "@b:x", since)
			if a := got["@a:x"]; a.Presence != Unavailable || !sameMsg(a.StatusMsg, &meeting) {
				t.Errorf("since %d: @a:x %+v", since, a)
			}
		}
		if c := fillFor(t, tr2, "@b:x", 0)["@c:x"]; c.Presence != Offline || !sameMsg(c.StatusMsg, &away) {
			t.Errorf("initial sync: @c:x %+v", c)
		}

		// Idle rules: a recently active user syncing is online again with
		// the status kept; one idle past the timeout stays unavailable.
		tr2.Synced(ctx, "@a:x", "")
		tr2.Synced(ctx, "@d:x", "")
		if a := tr2.Get("@a:x"); a.Presence != Online || !sameMsg(a.StatusMsg, &meeting) {
			t.Errorf("@a:x synced after restart: %+v", a)
		}
		if d := tr2.Get("@d:x"); d.Presence != Unavailable {
			t.Errorf("@d:x idle after restart: %+v", d)
		}
	})
}

// TestPresenceFlush: one write per flush however many changes, nothing
// when nothing changed, a failed write is retried, and memory-only
// trackers keep no backlog.
func TestPresenceFlush(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cs := &countingStore{Store: st}
		tr := New(Options{Enabled: true, Store: cs})
		for i := range 1000 {
			tr.Active(ctx, []string{"@a:x", "@b:x", "@c:x"}[i%3])
		}
		cs.fail = true
		if err := tr.flush(ctx); err == nil {
			t.Fatal("flush with the database down succeeded")
		}
		cs.fail = false
		steps := []struct {
			name         string
			writes, rows int
		}{{"retry after failure", 1, 3}, {"nothing changed", 1, 3}}
		for _, s := range steps {
			if err := tr.flush(ctx); err != nil {
				t.Fatal(err)
			}
			if cs.writes != s.writes || cs.rows != s.rows {
				t.Errorf("%s: %d writes of %d rows, want %d of %d", s.name, cs.writes, cs.rows, s.writes, s.rows)
			}
		}

		// A saved row that is not a presence state is skipped on load.
		if err := st.SavePresence(ctx, []models.PresenceState{{UserID: "@bad:x", Presence: "busy"}}); err != nil {
			t.Fatal(err)
		}
		tr2 := New(Options{Enabled: true, Store: st})
		if err := tr2.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if got := tr2.Get("@bad:x"); got.Presence != Offline {
			t.Errorf("invalid saved state loaded: %+v", got)
		}
		if got := tr2.Get("@b:x"); got.Presence != Unavailable || got.LastActiveAgo == nil {
			t.Errorf("@b:x loaded: %+v", got)
		}

		mem := New(Options{Enabled: true})
		mem.Active(ctx, "@a:x")
		if len(mem.dirty) != 0 {
			t.Errorf("memory-only tracker marked %d users dirty", len(mem.dirty))
		}
	})
}

// BenchmarkSyncedPersisted is the cost persistence adds to a /sync's
// presence refresh (an online user syncing again): the memory-only tracker
// is the limit.
func BenchmarkSyncedPersisted(b *testing.B) {
	st := storetest.Open(b, b.TempDir()+"/kabar.db")
	for _, bc := range []struct {
		name  string
		store Store
	}{{"memory", nil}, {"persisted", st}} {
		b.Run(bc.name, func(b *testing.B) {
			tr := New(Options{Enabled: true, Store: bc.store})
			ctx := context.Background()
			users := []string{"@a:x", "@b:x", "@c:x", "@d:x"}
			i := 0
			for b.Loop() {
				tr.Synced(ctx, users[i%len(users)], "")
				tr.Active(ctx, users[i%len(users)])
				i++
			}
		})
	}
}
