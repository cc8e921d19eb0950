package spaces

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/fedclient"
	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// remoteServer answers federation /hierarchy for one remote space and
// counts the requests; it can be down.
type remoteServer struct {
	mu       sync.Mutex
	requests int
	down     bool
	answer   string
}

func (r *remoteServer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if r.down || !strings.HasPrefix(req.URL.Path, "/_matrix/federation/v1/hierarchy/") {
		w.WriteHeader(502)
		return
	}
	w.Write([]byte(r.answer))
}

func (r *remoteServer) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

func (r *remoteServer) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

// startRemote starts a remoteServer over TLS and a federation client that
// trusts it; dest is its server name.
func startRemote(tb testing.TB) (*remoteServer, *fedclient.Client, *keys.SigningKey, string) {
	remote := &remoteServer{}
	srv := httptest.NewTLSServer(remote)
	tb.Cleanup(srv.Close)
	ca := filepath.Join(tb.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	key, _ := keys.Generate()
	client, err := fedclient.New(fedclient.Options{ServerName: "a.test", Key: key, TrustedCAFile: ca, AllowPrivateAddresses: true})
	if err != nil {
		tb.Fatal(err)
	}
	return remote, client, key, strings.TrimPrefix(srv.URL, "https://")
}

// fakeRooms holds the local rooms as state events.
type fakeRooms struct {
	mu    sync.Mutex
	state map[string][]*event.Event
}

func (f *fakeRooms) Room(_ context.Context, roomID spec.RoomID) (models.Room, *event.RoomVersion, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.state[string(roomID)]; !ok {
		return models.Room{}, nil, store.ErrNotFound
	}
	return models.Room{RoomID: string(roomID), Version: "10"}, event.LookupRoomVersion("10"), nil
}

func (f *fakeRooms) State(_ context.Context, roomID spec.RoomID, typ string) ([]*event.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*event.Event
	for _, ev := range f.state[string(roomID)] {
		if ev.Type() == typ {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (f *fakeRooms) Members(context.Context, spec.RoomID, string) ([]string, error) { return nil, nil }
func (f *fakeRooms) Store() *store.Store                                            { return nil }

// setLocal makes roomID a local public room named name.
func (f *fakeRooms) setLocal(t *testing.T, key *keys.SigningKey, roomID, name string) {
	var evs []*event.Event
	for _, b := range []event.Builder{
		{Type: "m.room.create", Content: map[string]any{"room_version": "10"}},
		{Type: "m.room.join_rules", Content: map[string]any{"join_rule": "public"}},
		{Type: "m.room.name", Content: map[string]any{"name": name}},
	} {
		b.RoomID, b.Sender, b.StateKey = roomID, "@u:a.test", new(string)
		b.PrevEvents, b.AuthEvents, b.Depth = []string{}, []string{}, 1
		ev, err := b.Build(event.LookupRoomVersion("10"), "a.test", key.ID, key.PrivateKey())
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	f.mu.Lock()
	f.state[roomID] = evs
	f.mu.Unlock()
}

// TestRemoteHierarchyCache: paging through a remote space asks the remote
// server once; the answer expires after CacheTTL; a failure is remembered
// only for NegativeCacheTTL; a local child is read fresh on every page.
func TestRemoteHierarchyCache(t *testing.T) {
	remote, client, key, dest := startRemote(t)
	root := spec.RoomID("!root:" + dest)
	local := "!local:a.test"
	child := func(id string, ts int64) map[string]any {
		return map[string]any{"type": "m.space.child", "state_key": id, "sender": "@r:" + dest,
			"origin_server_ts": ts, "content": map[string]any{"via": []string{dest}}}
	}
	summary := func(id string) map[string]any {
		return map[string]any{"room_id": id, "num_joined_members": 1, "join_rule": "public", "children_state": []any{}}
	}
	rootSum := summary(string(root))
	rootSum["room_type"] = "m.space"
	rootSum["children_state"] = []any{child("!c1:"+dest, 1), child(local, 2), child("!c2:"+dest, 3), child("!c3:"+dest, 4)}
	ans, _ := json.Marshal(map[string]any{"room": rootSum, "inaccessible_children": []string{},
		"children": []any{summary("!c1:" + dest), summary("!c2:" + dest), summary("!c3:" + dest)}})
	remote.answer = string(ans)

	now := time.Unix(1_000_000, 0)
	rooms := &fakeRooms{state: map[string][]*event.Event{}}
	rooms.setLocal(t, key, local, "before")
	svc := New(Options{ServerName: "a.test", Rooms: rooms, Client: client, Now: func() time.Time { return now }})
	ctx := context.Background()
	page := func(from string) *Page {
		t.Helper()
		p, err := svc.Hierarchy(ctx, "@u:a.test", root, Query{Limit: 2, MaxDepth: -1, From: from})
		if err != nil {
			t.Fatalf("page from %q: %v", from, err)
		}
		return p
	}
	ids := func(p *Page) string {
		var out []string
		for _, r := range p.Rooms {
			out = append(out, strings.SplitN(r.RoomID, ":", 2)[0]+"="+r.Name)
		}
		return strings.Join(out, ",")
	}

	p1 := page("")
	if got := ids(p1); got != "!root=,!c1=" || p1.NextBatch == "" {
		t.Fatalf("page 1: %s next %q", got, p1.NextBatch)
	}
	rooms.setLocal(t, key, local, "after") // a local change shows at once
	p2 := page(p1.NextBatch)
	if got := ids(p2); got != "!local=after,!c2=" {
		t.Fatalf("page 2: %s", got)
	}
	p3 := page(p2.NextBatch)
	if got := ids(p3); got != "!c3=" || p3.NextBatch != "" {
		t.Fatalf("page 3: %s next %q", got, p3.NextBatch)
	}
	if n := remote.count(); n != 1 {
		t.Fatalf("three pages asked the remote server %d times, want 1", n)
	}

	// suggested_only is its own entry.
	if _, err := svc.Hierarchy(ctx, "@u:a.test", root, Query{SuggestedOnly: true, MaxDepth: -1}); err != nil {
		t.Fatal(err)
	}
	if n := remote.count(); n != 2 {
		t.Fatalf("suggested_only walk: %d requests, want 2", n)
	}

	// Expiry: the next walk asks again.
	now = now.Add(defaultCacheTTL)
	page("")
	if n := remote.count(); n != 3 {
		t.Fatalf("after expiry: %d requests, want 3", n)
	}

	// A failing remote: the root is refused, and not asked again for the
	// negative TTL, then asked again and answered.
	now = now.Add(defaultCacheTTL)
	remote.setDown(true)
	for range 2 {
		_, err := svc.Hierarchy(ctx, "@u:a.test", root, Query{MaxDepth: -1})
		var me *spec.Error
		if !errors.As(err, &me) || me.Status != 403 {
			t.Fatalf("remote down: %v, want 403", err)
		}
	}
	if n := remote.count(); n != 4 {
		t.Fatalf("remote down twice: %d requests, want 4", n)
	}
	remote.setDown(false)
	now = now.Add(defaultNegativeCacheTTL)
	if got := ids(page("")); got != "!root=,!c1=" {
		t.Fatalf("after the failure expired: %s", got)
	}
	if n := remote.count(); n != 5 {
		t.Fatalf("after the failure expired: %d requests, want 5", n)
	}
}

// TestRemoteCacheBounds: the cache holds at most CacheSize answers,
// evicting the expired and then the one expiring first; failures are
// remembered per via list, and cancelled requests and a negative TTL below
// zero remember nothing.
func TestRemoteCacheBounds(t *testing.T) {
	now := time.Unix(0, 0)
	c := newRemoteCache(Options{CacheSize: 2, Now: func() time.Time { return now }})
	key := func(id string) cacheKey { return cacheKey{roomID: id} }
	ans := &fedAnswer{}
	c.put(key("!a"), nil, ans, nil)
	now = now.Add(time.Second)
	c.put(key("!b"), nil, ans, nil)
	c.put(key("!c"), nil, ans, nil) // evicts !a, the first to expire
	cases := []struct {
		name string
		key  cacheKey
		via  []string
		hit  bool
	}{
		{"evicted", key("!a"), nil, false},
		{"kept", key("!b"), nil, true},
		{"newest", key("!c"), nil, true},
		{"other suggested_only", cacheKey{roomID: "!b", suggestedOnly: true}, nil, false},
	}
	for _, tc := range cases {
		if _, _, ok := c.get(tc.key, tc.via); ok != tc.hit {
			t.Errorf("%s: hit %v, want %v", tc.name, ok, tc.hit)
		}
	}
	if len(c.entries) != 2 {
		t.Errorf("%d entries, want 2", len(c.entries))
	}

	fail := spec.NotFound("nope")
	c.put(key("!f"), []string{"x", "y"}, nil, fail)
	if _, err, ok := c.get(key("!f"), []string{"y", "x"}); !ok || err != fail {
		t.Errorf("failure with the same servers: %v %v", ok, err)
	}
	if _, _, ok := c.get(key("!f"), []string{"z"}); ok {
		t.Error("a failure of x and y kept z from being asked")
	}
	c.put(key("!g"), nil, nil, context.Canceled)
	if _, _, ok := c.get(key("!g"), nil); ok {
		t.Error("a cancelled request was remembered")
	}
	off := newRemoteCache(Options{NegativeCacheTTL: -1, CacheTTL: -1})
	off.put(key("!h"), nil, nil, fail)
	off.put(key("!i"), nil, ans, nil)
	if len(off.entries) != 0 {
		t.Errorf("disabled cache kept %d entries", len(off.entries))
	}
}

// BenchmarkRemoteHierarchyPage pages through a remote space of 100 rooms,
// 10 per page, with the cache (one federation request per TTL) and without
// it (CacheTTL -1: a request per page, the limit before this change).
func BenchmarkRemoteHierarchyPage(b *testing.B) {
	remote, client, _, dest := startRemote(b)
	root := "!root:" + dest
	var states, children []any
	for i := range 100 {
		id := "!c" + string(rune('a'+i/26)) + string(rune('a'+i%26)) + ":" + dest
		states = append(states, map[string]any{"type": "m.space.child", "state_key": id, "sender": "@r:" + dest,
			"origin_server_ts": i, "content": map[string]any{"via": []string{dest}}})
		children = append(children, map[string]any{"room_id": id, "num_joined_members": 1, "join_rule": "public", "children_state": []any{}})
	}
	ans, _ := json.Marshal(map[string]any{"room": map[string]any{"room_id": root, "room_type": "m.space", "join_rule": "public",
		"num_joined_members": 1, "children_state": states}, "children": children, "inaccessible_children": []string{}})
	remote.answer = string(ans)
	for _, bc := range []struct {
		name string
		ttl  time.Duration
	}{{"cached", 0}, {"uncached", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			svc := New(Options{ServerName: "a.test", Rooms: &fakeRooms{}, Client: client, CacheTTL: bc.ttl})
			before := remote.count()
			from := ""
			for b.Loop() {
				p, err := svc.Hierarchy(context.Background(), "@u:a.test", spec.RoomID(root), Query{Limit: 10, MaxDepth: -1, From: from})
				if err != nil {
					b.Fatal(err)
				}
				from = p.NextBatch
			}
			b.ReportMetric(float64(remote.count()-before)/float64(b.N), "requests/page")
		})
	}
}
