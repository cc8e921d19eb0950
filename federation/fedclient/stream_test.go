package fedclient

import (
	"context"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kabarchat/kabar/federation/keys"
)

// TestGetStreamTimeouts: a body that keeps flowing may outlast
// Options.Timeout; one that goes silent fails after StreamIdleTimeout; the
// unsigned variant sends no Authorization header.
func TestGetStreamTimeouts(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Auth", r.Header.Get("Authorization"))
		w.WriteHeader(200)
		gap := 40 * time.Millisecond
		if r.URL.Path == "/stall" {
			gap = 600 * time.Millisecond
		}
		for i := 0; i < 8; i++ { // 8 chunks: about 320 ms in all when flowing
			w.Write([]byte("chunk"))
			w.(http.Flusher).Flush()
			select {
			case <-time.After(gap):
			case <-r.Context().Done():
				return
			}
		}
	}))
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	key, _ := keys.Generate()
	c, err := New(Options{ServerName: "us.test", Key: key, TrustedCAFile: caFile, AllowPrivateAddresses: true,
		Timeout: 150 * time.Millisecond, StreamIdleTimeout: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	dest := specName(strings.TrimPrefix(srv.URL, "https://"))
	tests := []struct {
		name     string
		path     string
		unsigned bool
		wantErr  bool
	}{
		{"flowing body outlasts the request timeout", "/flow", false, false},
		{"unsigned", "/flow", true, false},
		{"silent body fails", "/stall", false, true},
	}
	for _, tc := range tests {
		get := c.GetStream
		if tc.unsigned {
			get = c.GetStreamUnsigned
		}
		resp, err := get(context.Background(), dest, tc.path)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if tc.wantErr != (err != nil) {
			t.Fatalf("%s: read %d bytes, err %v", tc.name, len(data), err)
		}
		if !tc.wantErr && len(data) != 40 {
			t.Fatalf("%s: %d bytes", tc.name, len(data))
		}
		if signed := strings.HasPrefix(resp.Header.Get("X-Auth"), "X-Matrix "); signed == tc.unsigned {
			t.Fatalf("%s: Authorization %q", tc.name, resp.Header.Get("X-Auth"))
		}
	}
}
