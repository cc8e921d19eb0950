package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/federation/xmatrix"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// inboundPDUs is how many PDUs the inbound benchmark posts, in
// transactions of txnPDUs (the spec's maximum per transaction).
const (
	inboundPDUs = 2000
	txnPDUs     = 50
)

// TestFederationInboundBenchmark measures how many PDUs per second hs2
// verifies (signature, content hash, auth against auth events, state before
// and current state) and persists from PUT /_matrix/federation/v1/send, in
// transactions of 50 PDUs posted one after the other (one transaction in
// flight per origin, as senders do). The PDUs are alice's messages signed
// with hs1's key, chained one after the other. The limit is the ed25519
// verify rate of one core, measured in the same run. hs2 runs on each
// database in turn, hs1 on SQLite. Run with KABAR_BENCH_FED=1.
func TestFederationInboundBenchmark(t *testing.T) {
	if os.Getenv("KABAR_BENCH_FED") == "" {
		t.Skip("set KABAR_BENCH_FED=1 to run the federation benchmark")
	}
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ca := newTestCA(t)
			hs1 := startFedServer(t, ca, "127.0.0.2", filepath.Join(t.TempDir(), "hs1.db"))
			hs2 := startFedServer(t, ca, "127.0.0.3", db.URL)
			alice, bob := hs1.register(t, "alice", "password-alice"), hs2.register(t, "bob", "password-bob")
			room := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice, `{"preset":"public_chat","room_version":"10"}`, 200)["room_id"].(string)
			hs2.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+url.QueryEscape(hs1.ServerName), bob, `{}`, 200)
			key1, err := keys.LoadOrCreate(filepath.Join(hs1.srv.cfg.DataDir, "signing.key"))
			if err != nil {
				t.Fatal(err)
			}
			pdus := chainedPDUs(t, hs2.testServer, room, "@alice:"+hs1.ServerName, hs1.ServerName, key1, inboundPDUs)
			verifyRate := ed25519VerifyRate(t, key1, pdus[0].JSON())

			client := fedHTTPClient(ca)
			start := time.Now()
			for i := 0; i < len(pdus); i += txnPDUs {
				postTxn(t, client, key1, hs1.ServerName, hs2.ServerName, fmt.Sprint("bench-", i), pdus[i:min(i+txnPDUs, len(pdus))])
			}
			took := time.Since(start)
			waitEvent(t, hs2.testServer, pdus[len(pdus)-1].EventID())
			rate := float64(len(pdus)) / took.Seconds()
			t.Logf("GOMAXPROCS=%d hs2 db=%s", runtime.GOMAXPROCS(0), db.Name)
			t.Logf("limit: ed25519 verify on one core: %.0f/s (%d-byte message)", verifyRate, len(pdus[0].JSON()))
			t.Logf("inbound /send: %d PDUs in %d transactions in %v: %.0f PDUs/s verified and persisted (%.3f of the verify rate)",
				len(pdus), (len(pdus)+txnPDUs-1)/txnPDUs, took.Round(time.Millisecond), rate, rate/verifyRate)
		})
	}
}

// chainedPDUs builds n messages by sender in room, each on top of the one
// before, the first on the receiver's current forward extremities.
func chainedPDUs(t *testing.T, recv *testServer, room, sender, origin string, key *keys.SigningKey, n int) []*event.Event {
	t.Helper()
	ctx := context.Background()
	st := recv.srv.store
	create, _ := st.CurrentStateRow(ctx, room, "m.room.create", "")
	pl, _ := st.CurrentStateRow(ctx, room, "m.room.power_levels", "")
	member, _ := st.CurrentStateRow(ctx, room, "m.room.member", sender)
	prev, err := st.ForwardExtremities(ctx, room)
	if err != nil || member.EventID == "" {
		t.Fatalf("receiver's view of %s: extremities %v (%v), member %q", room, prev, err, member.EventID)
	}
	var depth int64
	rows, _ := st.EventsByID(ctx, prev)
	for _, r := range rows {
		depth = max(depth, r.Depth)
	}
	rv := event.LookupRoomVersion("10")
	out := make([]*event.Event, 0, n)
	for i := range n {
		depth++
		b := &event.Builder{RoomID: room, Sender: sender, Type: "m.room.message",
			Content:    map[string]any{"msgtype": "m.text", "body": fmt.Sprint("inbound benchmark message ", i)},
			PrevEvents: prev, AuthEvents: []string{create.EventID, pl.EventID, member.EventID}, Depth: depth}
		ev, err := b.Build(rv, origin, key.ID, key.PrivateKey())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
		prev = []string{ev.EventID()}
	}
	return out
}

// ed25519VerifyRate measures signature verifications per second of msg on
// one goroutine for about half a second.
func ed25519VerifyRate(t *testing.T, key *keys.SigningKey, msg []byte) float64 {
	t.Helper()
	priv := key.PrivateKey()
	pub := priv.Public().(ed25519.PublicKey)
	sig := ed25519.Sign(priv, msg)
	n, start := 0, time.Now()
	for time.Since(start) < 500*time.Millisecond {
		for range 100 {
			if !ed25519.Verify(pub, msg, sig) {
				t.Fatal("signature does not verify")
			}
		}
		n += 100
	}
	return float64(n) / time.Since(start).Seconds()
}

// fedHTTPClient trusts the test CA and keeps connections alive.
func fedHTTPClient(ca *testCA) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// postTxn sends one signed transaction and fails on any refused PDU.
func postTxn(t *testing.T, client *http.Client, key *keys.SigningKey, origin, dest, txnID string, pdus []*event.Event) {
	t.Helper()
	raws := make([]json.RawMessage, len(pdus))
	for i, ev := range pdus {
		raws[i] = ev.JSON()
	}
	body, _ := json.Marshal(map[string]any{"origin": origin, "origin_server_ts": time.Now().UnixMilli(), "pdus": raws})
	path := "/_matrix/federation/v1/send/" + url.PathEscape(txnID)
	auth, err := xmatrix.Sign(key, origin, dest, "PUT", path, body)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("PUT", "https://"+dest+path, bytes.NewReader(body))
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		PDUs map[string]struct {
			Error string `json:"error"`
		} `json:"pdus"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("transaction %s: %d %v", txnID, resp.StatusCode, err)
	}
	for id, r := range out.PDUs {
		if r.Error != "" {
			t.Fatalf("PDU %s refused: %s", id, r.Error)
		}
	}
}
