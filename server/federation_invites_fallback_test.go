package main

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// oldInviteProxy stands at a Kabar's federation address for a server that
// predates PUT /v2/invite: it answers that endpoint 404 M_UNRECOGNIZED, as
// an unknown route, and passes everything else to the real listener.
type oldInviteProxy struct {
	v1Invites atomic.Int32
}

func startOldInviteProxy(t *testing.T, ca *testCA, addr, backend, certFile, keyFile string) *oldInviteProxy {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	target, _ := url.Parse("https://" + backend)
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.Out.Host = pr.In.Host },
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: strings.Split(backend, ":")[0]}},
	}
	p := &oldInviteProxy{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/_matrix/federation/v2/invite/"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}`))
			return
		case strings.HasPrefix(r.URL.Path, "/_matrix/federation/v1/invite/"):
			p.v1Invites.Add(1)
		}
		rp.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return p
}

// TestFederationInviteV1Fallback: hs2 answers PUT /v2/invite with 404
// M_UNRECOGNIZED. alice@hs1's invite into a room of version 1 or 2 is sent
// again through PUT /v1/invite and bob can accept it; one into a later
// version cannot be carried by v1 and fails 400 M_UNSUPPORTED_ROOM_VERSION;
// the v1 endpoint's own refusal (no such user) reaches the client as it is.
func TestFederationInviteV1Fallback(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ca := newTestCA(t)
			hs1 := startFedServer(t, ca, "127.0.0.2", db.URL)
			backend := freeAddr(t, "127.0.0.3")
			hs2 := newRestartable(t, ca, "127.0.0.3", storetest.URLs(t)[0].URL, func(cfg *configs.Config) {
				cfg.Federation.Listen = backend
			})
			proxy := startOldInviteProxy(t, ca, hs2.ServerName, backend, hs2.cfg.Federation.TLSCert, hs2.cfg.Federation.TLSKey)
			alice := hs1.register(t, "alice", "password-alice")
			bob := hs2.register(t, "bob", "password-bob")
			bobID := "@bob:" + hs2.ServerName

			for i, version := range []string{"1", "2"} {
				room := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice,
					`{"preset":"private_chat","name":"Old room","room_version":"`+version+`"}`, 200)["room_id"].(string)
				hs1.call(t, "POST", "/_matrix/client/v3/rooms/"+url.PathEscape(room)+"/invite", alice, `{"user_id":"`+bobID+`"}`, 200)
				if got := proxy.v1Invites.Load(); got != int32(i+1) {
					t.Fatalf("v%s: %d v1 invites, want %d", version, got, i+1)
				}
				waitMembership(t, hs2.testServer, room, bobID, "invite")
				hs2.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+url.QueryEscape(hs1.ServerName), bob, `{}`, 200)
				waitMembership(t, hs1.testServer, room, bobID, "join")
			}

			room := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice, `{"room_version":"10"}`, 200)["room_id"].(string)
			invite := "/_matrix/client/v3/rooms/" + url.PathEscape(room) + "/invite"
			code, body := hs1.do(t, "POST", invite, alice, strings.NewReader(`{"user_id":"`+bobID+`"}`))
			if code != 400 || !strings.Contains(string(body), "M_UNSUPPORTED_ROOM_VERSION") {
				t.Fatalf("invite into v10 without /v2/invite: %d %s", code, body)
			}

			old := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice, `{"room_version":"1"}`, 200)["room_id"].(string)
			before := proxy.v1Invites.Load()
			code, body = hs1.do(t, "POST", "/_matrix/client/v3/rooms/"+url.PathEscape(old)+"/invite", alice,
				strings.NewReader(`{"user_id":"@nobody:`+hs2.ServerName+`"}`))
			if code != 404 || !strings.Contains(string(body), "M_NOT_FOUND") {
				t.Fatalf("invite of an unknown user: %d %s", code, body)
			}
			if proxy.v1Invites.Load() != before+1 {
				t.Fatalf("the unknown user's v1 invite was not the one answering 404")
			}
		})
	}
}
