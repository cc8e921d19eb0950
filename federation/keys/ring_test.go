package keys

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// memTransport routes key requests to in-process rings; down servers fail.
type memTransport struct {
	rings map[string]*Ring
	down  map[string]bool
	calls map[string]int
	// tamper changes a response before it is returned.
	tamper func([]byte) []byte
}

func (m *memTransport) KeyRequest(ctx context.Context, server, method, path string, body []byte) ([]byte, error) {
	m.calls[server]++
	r := m.rings[server]
	if r == nil || m.down[server] {
		return nil, fmt.Errorf("%s is unreachable", server)
	}
	var out []byte
	var err error
	switch {
	case method == "GET" && path == "/_matrix/key/v2/server":
		out, err = r.Own()
	case method == "POST" && path == "/_matrix/key/v2/query":
		var q struct {
			ServerKeys map[string]map[string]int64 `json:"server_keys"`
		}
		if err := json.Unmarshal(body, &q); err != nil {
			return nil, err
		}
		out, err = json.Marshal(map[string]any{"server_keys": r.NotaryQuery(ctx, q.ServerKeys)})
	default:
		return nil, fmt.Errorf("unexpected %s %s", method, path)
	}
	if err == nil && m.tamper != nil {
		out = m.tamper(out)
	}
	return out, err
}

func newRing(t *testing.T, st *store.Store, name string, tr *memTransport, now func() time.Time, notaries ...Notary) (*Ring, *SigningKey) {
	t.Helper()
	k, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	r := NewRing(RingOptions{Store: st, Transport: tr, ServerName: name, Key: k, Notaries: notaries, Now: now})
	tr.rings[name] = r
	return r, k
}

func TestRingFetchCacheValidity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.UnixMilli(1_700_000_000_000)
		clock := func() time.Time { return now }
		tr := &memTransport{rings: map[string]*Ring{}, down: map[string]bool{}, calls: map[string]int{}}
		a, _ := newRing(t, st, "a.test", tr, clock)
		_, kb := newRing(t, sqliteStore(t), "b.test", tr, clock)

		tests := []struct {
			name    string
			keyID   string
			validAt int64
			wantErr bool
		}{
			{"fetched directly", kb.ID, now.UnixMilli(), false},
			{"cached", kb.ID, 0, false},
			{"unknown key id", "ed25519:nope", 0, true},
			{"beyond valid_until_ts", kb.ID, now.Add(8 * 24 * time.Hour).UnixMilli(), true},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := a.VerifyKey(ctx, "b.test", tc.keyID, tc.validAt)
				if (err != nil) != tc.wantErr {
					t.Fatalf("err = %v, want error %v", err, tc.wantErr)
				}
			})
		}
		// One fetch for the first lookup; the refetches for the unknown and
		// the expired key fall within RefetchInterval and are refused.
		if tr.calls["b.test"] != 1 {
			t.Errorf("b.test asked %d times, want 1", tr.calls["b.test"])
		}
		// A new ring over the same database finds the key without the network.
		tr.down["b.test"] = true
		a2 := NewRing(RingOptions{Store: st, Transport: tr, ServerName: "a.test", Key: kb})
		if _, err := a2.VerifyKey(ctx, "b.test", kb.ID, now.UnixMilli()); err != nil {
			t.Errorf("persisted key: %v", err)
		}
	})
}

func TestRingRejectsBadResponses(t *testing.T) {
	tamper := map[string]func([]byte) []byte{
		"signature changed": func(b []byte) []byte {
			var m map[string]any
			json.Unmarshal(b, &m)
			m["valid_until_ts"] = m["valid_until_ts"].(float64) + 1
			out, _ := json.Marshal(m)
			return out
		},
		"not json":     func([]byte) []byte { return []byte("<html>") },
		"wrong server": func(b []byte) []byte { return []byte(string(b[:0]) + `{"server_name":"x.test"}`) },
	}
	for name, fn := range tamper {
		t.Run(name, func(t *testing.T) {
			st := sqliteStore(t)
			tr := &memTransport{rings: map[string]*Ring{}, down: map[string]bool{}, calls: map[string]int{}, tamper: fn}
			a, _ := newRing(t, st, "a.test", tr, nil)
			_, kb := newRing(t, sqliteStore(t), "b.test", tr, nil)
			if _, err := a.VerifyKey(context.Background(), "b.test", kb.ID, 0); !errors.Is(err, ErrKeyNotFound) && err == nil {
				t.Fatalf("accepted a bad response")
			}
		})
	}
}

func TestRingNotary(t *testing.T) {
	ctx := context.Background()
	tr := &memTransport{rings: map[string]*Ring{}, down: map[string]bool{}, calls: map[string]int{}}
	_, kn := newRing(t, sqliteStore(t), "notary.test", tr, nil)
	a, _ := newRing(t, sqliteStore(t), "a.test", tr, nil,
		Notary{ServerName: "notary.test", Keys: map[string]ed25519.PublicKey{kn.ID: kn.Public()}})
	_, kb := newRing(t, sqliteStore(t), "b.test", tr, nil)
	// The notary learns b's keys, then b goes down for a.
	if _, err := tr.rings["notary.test"].VerifyKey(ctx, "b.test", kb.ID, 0); err != nil {
		t.Fatal(err)
	}
	tr.down["b.test"] = true
	if _, err := a.VerifyKey(ctx, "b.test", kb.ID, 0); err != nil {
		t.Fatalf("via notary: %v", err)
	}
}

func TestPublishOldKeys(t *testing.T) {
	k, _ := Generate()
	old, _ := Generate()
	now := time.Now()
	body, err := Publish("a.test", k, []OldKey{{ID: old.ID, Public: old.Public(), ExpiredTS: 5}}, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParseResponse("a.test", body, now)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, key := range keys {
		got[key.KeyID] = key.ExpiredTS
	}
	if len(got) != 2 || got[old.ID] != 5 || got[k.ID] != 0 {
		t.Fatalf("keys = %v", got)
	}
}

func sqliteStore(t *testing.T) *store.Store {
	return storetest.Open(t, filepath.Join(t.TempDir(), "kabar.db"))
}
