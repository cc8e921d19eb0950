package main

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/federation/xmatrix"
)

// TestHardeningFederationSigned walks hs1's federation routes with hostile
// requests that carry a valid X-Matrix signature from hs2 (a server in the
// room), so that they get past authentication into the handlers.
func TestHardeningFederationSigned(t *testing.T) {
	if testing.Short() {
		t.Skip("walks every federation route")
	}
	r := newSharedRoom(t, "10")
	key2, err := keys.LoadOrCreate(filepath.Join(r.hs2.srv.cfg.DataDir, "signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	event := r.send(t, r.hs1, r.alice, "hello", "hardening")
	pool := x509.NewCertPool()
	pool.AddCert(r.ca.cert)
	h := &hardener{
		ts: r.hs1.testServer, failures: map[string]string{}, statuses: map[int]int{},
		client: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
		valid: map[string]string{
			"roomId": r.room, "userId": "@bob:" + r.hs2.ServerName, "eventId": event, "txnId": "t1",
			"serverName": r.hs1.ServerName, "mediaId": "AAAAAAAAAAAAAAAAAAAAAAAA",
		},
		sign: func(method, uri string, body []byte) string {
			auth, err := xmatrix.Sign(key2, r.hs2.ServerName, r.hs1.ServerName, method, uri, body)
			if err != nil {
				return "" // not JSON: sent unsigned, refused with 401
			}
			return auth
		},
	}
	start := time.Now()
	var n int
	for _, rt := range r.hs1.srv.fed.echo.Routes() {
		if rt.Method == "echo_route_not_found" {
			continue
		}
		tg := routeTarget{base: "https://" + r.hs1.ServerName, route: *rt}
		h.walkSigned(t, tg)
		n++
	}
	for _, key := range h.order {
		t.Error(h.failures[key])
	}
	t.Logf("%d federation routes, %d signed hostile requests, %d distinct failures, %s; by status: %v",
		n, h.sent, len(h.order), time.Since(start).Round(time.Millisecond), h.statuses)
}

// walkSigned is walk for a signed federation route: garbage parameters,
// hostile bodies and queries.
func (h *hardener) walkSigned(t *testing.T, tg routeTarget) {
	method := tg.route.Method
	var empty []byte
	if method != http.MethodGet {
		empty = []byte(`{}`)
	}
	for _, p := range tg.params() {
		for _, g := range garbageParams {
			h.send(t, request{tg: tg, label: "garbage " + p, method: method, path: tg.path(h.valid, p, g), body: empty})
		}
	}
	valid := tg.path(h.valid, "", "")
	for _, q := range hostileQueries {
		h.send(t, request{tg: tg, label: "query " + q, method: method, path: valid + "?" + q, body: empty})
	}
	if method != http.MethodGet {
		for _, b := range hostileBodies {
			h.send(t, request{tg: tg, label: "body " + b.name, method: method, path: valid, body: b.body})
		}
	}
}
