package main

import (
	"bytes"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/kabarchat/kabar/models/store/storetest"
)

// legacyMediaServer is an "older server": TLS from the test CA on its own
// address, no federation media endpoints (404 M_UNRECOGNIZED), and the
// deprecated /_matrix/media/v3 download and thumbnail.
type legacyMediaServer struct {
	name  string
	file  []byte
	thumb []byte
	mu    sync.Mutex
	bad   []string // requests that broke the fallback rules
}

func startLegacyMediaServer(t *testing.T, ca *testCA, ip string, file, thumb []byte) *legacyMediaServer {
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	certFile, keyFile := ca.issue(t, ip)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	l := &legacyMediaServer{name: ln.Addr().String(), file: file, thumb: thumb}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(l.serve))
	srv.Listener.Close()
	srv.Listener = ln
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return l
}

func (l *legacyMediaServer) serve(w http.ResponseWriter, r *http.Request) {
	prefix := "/_matrix/media/v3/"
	if strings.HasPrefix(r.URL.Path, prefix) &&
		(r.Header.Get("Authorization") != "" || r.URL.Query().Get("allow_remote") != "false") {
		l.mu.Lock()
		l.bad = append(l.bad, r.URL.String())
		l.mu.Unlock()
	}
	switch {
	case strings.HasPrefix(r.URL.Path, prefix+"download/"+l.name+"/old"):
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Disposition", `attachment; filename="old.txt"`)
		w.Write(l.file)
	case strings.HasPrefix(r.URL.Path, prefix+"thumbnail/"+l.name+"/old"):
		w.Header().Set("Content-Type", "image/png")
		w.Write(l.thumb)
	case strings.HasPrefix(r.URL.Path, prefix):
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		w.Write([]byte(`{"errcode":"M_NOT_FOUND","error":"no such media"}`))
	default: // what a server before Matrix 1.11 answers for /federation/v1/media
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		w.Write([]byte(`{"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}`))
	}
}

// TestLegacyRemoteMedia: media of a server without the federation media
// endpoints is fetched through the deprecated ones, unauthenticated and with
// allow_remote=false (server-server-api "Content Repository").
func TestLegacyRemoteMedia(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ca := newTestCA(t)
			hs := startFedServer(t, ca, "127.0.0.2", db.URL)
			file, thumb := bytes.Repeat([]byte("legacy "), 5000), pngBytes(t, 32, 32)
			old := startLegacyMediaServer(t, ca, "127.0.0.4", file, thumb)
			token := hs.register(t, "alice", "correct horse")
			base := "/_matrix/client/v1/media/"
			cases := []struct {
				name, path string
				status     int
				body       []byte
				ct         string
			}{
				{"download", base + "download/" + old.name + "/old", 200, file, "text/plain"},
				{"download again (cached)", base + "download/" + old.name + "/old/renamed.txt", 200, file, "text/plain"},
				{"thumbnail", base + "thumbnail/" + old.name + "/old2?width=32&height=32&method=crop", 200, thumb, "image/png"},
				{"unknown media", base + "download/" + old.name + "/missing", 404, nil, ""},
			}
			for _, tc := range cases {
				resp, body := hs.mediaDo(t, "GET", tc.path, token, nil, nil)
				if resp.StatusCode != tc.status {
					t.Fatalf("%s: %d %s", tc.name, resp.StatusCode, body)
				}
				if tc.status == 200 && (!bytes.Equal(body, tc.body) || resp.Header.Get("Content-Type") != tc.ct) {
					t.Fatalf("%s: %d bytes of %s", tc.name, len(body), resp.Header.Get("Content-Type"))
				}
			}
			old.mu.Lock()
			defer old.mu.Unlock()
			if len(old.bad) > 0 {
				t.Fatalf("legacy requests authenticated or without allow_remote=false: %q", old.bad)
			}
		})
	}
}
