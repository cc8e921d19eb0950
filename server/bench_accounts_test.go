package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/kabarchat/kabar/clientapi/authn"
	"github.com/kabarchat/kabar/configs"
)

const whoamiPath = "/_matrix/client/v3/account/whoami"

// benchOpenRegistration is the config the accounts benchmarks run with: open
// registration, rate limits off (startServer's default).
func benchOpenRegistration(c *configs.Config) { c.Registration.Mode = configs.RegistrationOpen }

// BenchmarkWhoami: authenticated GET /account/whoami (token lookup through
// the cache) against a bare Echo handler returning the same JSON, in
// alternating rounds (issue 2's target: ratio >= 0.80).
func BenchmarkWhoami(b *testing.B) {
	client := benchClient()
	ts := startServer(b, filepath.Join(b.TempDir(), "kabar.db"), benchOpenRegistration)
	token := registerUser(b, client, ts.URL, "bench")
	body := getJSON(b, client, ts.URL+whoamiPath, token)
	bare := startBareEcho(b, whoamiPath, body)
	interleave(b, client, target{url: ts.URL + whoamiPath, token: token}, target{url: bare})
}

// BenchmarkRegister: full registrations per second (UIA with m.login.dummy:
// the 401 challenge, then the completed request), from parallel clients.
// Compare reg/s with BenchmarkPasswordHash's hash/s (issue 2: within 20%).
func BenchmarkRegister(b *testing.B) {
	client := benchClient()
	ts := startServer(b, filepath.Join(b.TempDir(), "kabar.db"), benchOpenRegistration)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			registerUser(b, client, ts.URL, fmt.Sprintf("user%d", n.Add(1)))
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reg/s")
}

// BenchmarkPasswordHash: the argon2id hash alone, with the parameters the
// server uses, on all cores: the ceiling for BenchmarkRegister.
func BenchmarkPasswordHash(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := authn.HashPassword("correct horse battery staple", authn.DefaultArgon2); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hash/s")
}

// registerUser registers localpart through the two UIA steps a client
// takes and returns its access token.
func registerUser(b *testing.B, client *http.Client, base, localpart string) string {
	req := map[string]any{"username": localpart, "password": "correct horse battery staple"}
	var challenge struct {
		Session string `json:"session"`
	}
	if code := postJSON(b, client, base+"/_matrix/client/v3/register", req, &challenge); code != http.StatusUnauthorized {
		b.Fatalf("register %s, first step: status %d, want the 401 UIA challenge", localpart, code)
	}
	req["auth"] = map[string]string{"type": "m.login.dummy", "session": challenge.Session}
	var done struct {
		AccessToken string `json:"access_token"`
	}
	if code := postJSON(b, client, base+"/_matrix/client/v3/register", req, &done); code != http.StatusOK || done.AccessToken == "" {
		b.Fatalf("register %s: status %d, token %q", localpart, code, done.AccessToken)
	}
	return done.AccessToken
}

func postJSON(b *testing.B, client *http.Client, url string, body, dst any) int {
	data, err := json.Marshal(body)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := client.Post(url, "application/json", bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, dst); err != nil {
		b.Fatalf("POST %s: %d %s: %v", url, resp.StatusCode, raw, err)
	}
	return resp.StatusCode
}
