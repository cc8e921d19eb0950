package fedclient

import (
	"context"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/federation/xmatrix"
	"github.com/kabarchat/kabar/models/spec"
)

type tableDNS map[string][]*net.SRV // "_service._tcp.name" -> records

func (d tableDNS) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	recs, ok := d["_"+service+"._"+proto+"."+name]
	if !ok {
		return "", nil, errors.New("no such host")
	}
	return "", recs, nil
}

func TestResolve(t *testing.T) {
	dns := tableDNS{
		"_matrix-fed._tcp.srv.test":         {{Target: "fed.srv.test.", Port: 1111}},
		"_matrix._tcp.old.test":             {{Target: "legacy.old.test.", Port: 2222}},
		"_matrix-fed._tcp.deleg.test":       {{Target: "x.deleg.test.", Port: 3333}},
		"_matrix-fed._tcp.srvandwk.test":    {{Target: "ignored.test.", Port: 4444}},
		"_matrix-fed._tcp.unavailable.test": {{Target: ".", Port: 0}},
	}
	wk := map[string]string{
		"wk-ip.test":    "10.0.0.5",
		"wk-port.test":  "deleg.test:9000",
		"wk-srv.test":   "deleg.test",
		"wk-plain.test": "plain.test",
		"srvandwk.test": "plain.test",
		"wk-ip6.test":   "[::1]:8000",
	}
	r := &resolver{dns: dns, now: time.Now, cache: map[string]wkEntry{},
		wellKnown: func(_ context.Context, host string) (string, time.Duration, error) {
			if s, ok := wk[host]; ok {
				return s, time.Hour, nil
			}
			return "", 0, errors.New("404")
		}}
	tests := []struct {
		name string
		want Target
	}{
		{"1.2.3.4", Target{"1.2.3.4:8448", "1.2.3.4", "1.2.3.4"}},
		{"1.2.3.4:99", Target{"1.2.3.4:99", "1.2.3.4:99", "1.2.3.4"}},
		{"[::1]", Target{"[::1]:8448", "[::1]", "::1"}},
		{"[::1]:99", Target{"[::1]:99", "[::1]:99", "::1"}},
		{"host.test:99", Target{"host.test:99", "host.test:99", "host.test"}},
		{"wk-ip.test", Target{"10.0.0.5:8448", "10.0.0.5", "10.0.0.5"}},
		{"wk-ip6.test", Target{"[::1]:8000", "[::1]:8000", "::1"}},
		{"wk-port.test", Target{"deleg.test:9000", "deleg.test:9000", "deleg.test"}},
		{"wk-srv.test", Target{"x.deleg.test:3333", "deleg.test", "deleg.test"}},
		{"wk-plain.test", Target{"plain.test:8448", "plain.test", "plain.test"}},
		{"srvandwk.test", Target{"plain.test:8448", "plain.test", "plain.test"}},
		{"srv.test", Target{"fed.srv.test:1111", "srv.test", "srv.test"}},
		{"old.test", Target{"legacy.old.test:2222", "old.test", "old.test"}},
		{"unavailable.test", Target{"unavailable.test:8448", "unavailable.test", "unavailable.test"}},
		{"nothing.test", Target{"nothing.test:8448", "nothing.test", "nothing.test"}},
	}
	for _, tc := range tests {
		if got := r.resolve(context.Background(), tc.name); got != tc.want {
			t.Errorf("resolve(%s) = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestWellKnownCache(t *testing.T) {
	now := time.Unix(1000, 0)
	calls := 0
	fail := true
	r := &resolver{dns: tableDNS{}, now: func() time.Time { return now }, cache: map[string]wkEntry{},
		wellKnown: func(context.Context, string) (string, time.Duration, error) {
			calls++
			if fail {
				return "", 0, errors.New("down")
			}
			return "deleg.test:1", time.Hour, nil
		}}
	ctx := context.Background()
	steps := []struct {
		advance   time.Duration
		fail      bool
		wantCalls int
		wantHost  string
	}{
		{0, true, 1, "a.test"},                 // error: fall through to 8448
		{30 * time.Second, false, 1, "a.test"}, // error cached 1 minute
		{time.Minute, true, 2, "a.test"},       // second failure: 2 minutes
		{time.Minute, false, 2, "a.test"},
		{2 * time.Minute, false, 3, "deleg.test:1"},
		{30 * time.Minute, false, 3, "deleg.test:1"}, // success cached an hour
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		fail = s.fail
		got := r.resolve(ctx, "a.test")
		if calls != s.wantCalls || got.Host != s.wantHost {
			t.Errorf("step %d: calls %d host %s, want %d %s", i, calls, got.Host, s.wantCalls, s.wantHost)
		}
	}
}

func TestParseWellKnownAndTTL(t *testing.T) {
	for body, ok := range map[string]bool{
		`{"m.server":"a.test:443"}`: true, `{"m.server":"a_b"}`: false, `{}`: false,
		`not json`: false, `{"m.server":5}`: false,
	} {
		if _, err := parseWellKnown([]byte(body)); (err == nil) != ok {
			t.Errorf("parseWellKnown(%s) err = %v", body, err)
		}
	}
	now := time.Now()
	ttls := []struct {
		cc, exp string
		want    time.Duration
	}{
		{"", "", 24 * time.Hour},
		{"max-age=60", "", time.Minute},
		{"public, max-age=999999", "", 48 * time.Hour},
		{"no-store", "", 0},
		{"", now.Add(2 * time.Hour).UTC().Format(http.TimeFormat), 2 * time.Hour},
	}
	for _, tc := range ttls {
		if got := cacheTTL(tc.cc, tc.exp, now); got.Round(time.Minute) != tc.want {
			t.Errorf("cacheTTL(%q,%q) = %v, want %v", tc.cc, tc.exp, got, tc.want)
		}
	}
}

func TestIsPrivate(t *testing.T) {
	for ip, want := range map[string]bool{
		"127.0.0.2": true, "10.1.2.3": true, "192.168.1.1": true, "172.16.0.1": true, "169.254.1.1": true,
		"100.64.0.1": true, "::1": true, "fe80::1": true, "fc00::1": true, "0.0.0.0": true, "::ffff:127.0.0.1": true,
		"8.8.8.8": false, "2001:4860::8888": false,
	} {
		if got := isPrivate(net.ParseIP(ip)); got != want {
			t.Errorf("isPrivate(%s) = %v", ip, got)
		}
	}
}

// TestRequestTLS sends a signed request to a TLS server with a test CA:
// trusted only with the CA file, reachable only with private addresses allowed.
func TestRequestTLS(t *testing.T) {
	key, _ := keys.Generate()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := xmatrix.Parse(r.Header.Get("Authorization"))
		if err != nil || p.Destination != r.Host || p.Origin != "us.test" {
			w.WriteHeader(401)
			w.Write([]byte(`{"errcode":"M_UNAUTHORIZED","error":"no"}`))
			return
		}
		w.Write([]byte(`{"host":"` + r.Host + `"}`))
	}))
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	dest := strings.TrimPrefix(srv.URL, "https://")

	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"trusted and allowed", Options{TrustedCAFile: caFile, AllowPrivateAddresses: true}, ""},
		{"private refused", Options{TrustedCAFile: caFile}, "private address"},
		{"untrusted certificate", Options{AllowPrivateAddresses: true}, "certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.ServerName, tc.opts.Key = "us.test", key
			c, err := New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var out struct{ Host string }
			err = c.Do(context.Background(), specName(dest), "GET", "/_matrix/federation/v1/version", nil, &out)
			if tc.wantErr == "" && (err != nil || out.Host != dest) {
				t.Fatalf("err %v, host %q", err, out.Host)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func specName(s string) spec.ServerName { return spec.ServerName(s) }
