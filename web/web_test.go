package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
)

// builtFS looks like a Vite build.
var builtFS = fstest.MapFS{
	"index.html":                {Data: []byte("<!doctype html><title>app shell</title>")},
	"favicon.svg":               {Data: []byte("<svg/>")},
	"assets/index-abc123.js":    {Data: []byte(strings.Repeat("console.log('kabar');\n", 200))},
	"assets/index-abc123.css":   {Data: []byte("body{}")},
	"assets/crypto-def456.wasm": {Data: []byte("\x00asm\x01\x00\x00\x00")},
	"assets/sub/nested-111.js":  {Data: []byte("x")},
}

// newEcho builds the shared Echo with one API route, like the server does.
func newEcho(fsys fstest.MapFS) *echo.Echo {
	e := echoserver.New(echoserver.Options{})
	e.GET("/_matrix/client/versions", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"versions": []string{"v1.12"}})
	})
	e.GET("/health", func(c echo.Context) error { return c.String(http.StatusOK, "OK") })
	if fsys == nil {
		register(e, fstest.MapFS{})
	} else {
		register(e, fsys)
	}
	return e
}

func do(e *echo.Echo, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestServing(t *testing.T) {
	e := newEcho(builtFS)
	tests := []struct {
		name, method, path string
		status             int
		ctype, cache, body string
		csp                bool
	}{
		{"root is the app shell", "GET", "/", 200, "text/html", cacheRevalidate, "app shell", true},
		{"index.html itself", "GET", "/index.html", 200, "text/html", cacheRevalidate, "app shell", true},
		{"client route falls back", "GET", "/rooms/!abc:example.org", 200, "text/html", cacheRevalidate, "app shell", true},
		{"deep client route", "GET", "/settings/profile", 200, "text/html", cacheRevalidate, "app shell", true},
		{"hashed js", "GET", "/assets/index-abc123.js", 200, "text/javascript", cacheImmutable, "kabar", true},
		{"hashed css", "GET", "/assets/index-abc123.css", 200, "text/css", cacheImmutable, "body{}", true},
		{"crypto wasm", "GET", "/assets/crypto-def456.wasm", 200, "application/wasm", cacheImmutable, "asm", true},
		{"nested asset", "GET", "/assets/sub/nested-111.js", 200, "text/javascript", cacheImmutable, "x", true},
		{"unhashed public file", "GET", "/favicon.svg", 200, "image/svg+xml", cacheRevalidate, "<svg/>", true},
		{"HEAD root", "HEAD", "/", 200, "text/html", cacheRevalidate, "", true},
		{"missing asset is 404", "GET", "/assets/gone-999.js", 404, "application/json", "", "M_UNRECOGNIZED", false},
		{"assets dir is 404", "GET", "/assets/", 404, "application/json", "", "M_UNRECOGNIZED", false},
		{"dot-dot stays inside", "GET", "/../../etc/passwd", 200, "text/html", cacheRevalidate, "app shell", true},
		{"unknown matrix path", "GET", "/_matrix/client/v3/nope", 404, "application/json", "", "M_UNRECOGNIZED", false},
		{"bare _matrix", "GET", "/_matrix", 404, "application/json", "", "M_UNRECOGNIZED", false},
		{"unknown synapse path", "GET", "/_synapse/admin/v1/users", 404, "application/json", "", "M_UNRECOGNIZED", false},
		{"unknown well-known", "GET", "/.well-known/matrix/nope", 404, "application/json", "", "M_UNRECOGNIZED", false},
		{"metrics when disabled", "GET", "/metrics", 404, "application/json", "", "M_UNRECOGNIZED", false},
		{"health subpath", "GET", "/health/x", 404, "application/json", "", "M_UNRECOGNIZED", false},
		{"API route still wins", "GET", "/_matrix/client/versions", 200, "application/json", "", "v1.12", false},
		{"health route still wins", "GET", "/health", 200, "text/plain", "", "OK", false},
		{"wrong method on API route", "POST", "/_matrix/client/versions", 405, "application/json", "", "M_UNRECOGNIZED", false},
		{"POST to a client path", "POST", "/", 404, "application/json", "", "M_UNRECOGNIZED", false},
		{"PUT unknown matrix path", "PUT", "/_matrix/client/v3/nope", 404, "application/json", "", "M_UNRECOGNIZED", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(e, tt.method, tt.path, nil)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %q", rec.Code, tt.status, rec.Body.String())
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tt.ctype) {
				t.Errorf("Content-Type = %q, want prefix %q", ct, tt.ctype)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != tt.cache {
				t.Errorf("Cache-Control = %q, want %q", cc, tt.cache)
			}
			if !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("body %q does not contain %q", rec.Body.String(), tt.body)
			}
			checkSecurityHeaders(t, rec.Header(), tt.csp)
		})
	}
}

func checkSecurityHeaders(t *testing.T, h http.Header, want bool) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	if !want {
		if csp != "" {
			t.Errorf("unexpected CSP on a non-client response: %q", csp)
		}
		return
	}
	for _, d := range []string{"default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "connect-src 'self' https: http:", "object-src 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP %q lacks %q", csp, d)
		}
	}
	if strings.Contains(csp, "'unsafe-inline'") || strings.Contains(csp, "'unsafe-eval'") {
		t.Errorf("CSP allows unsafe script/style: %q", csp)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
	if got := h.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy = %q", got)
	}
}

func TestPlaceholderWithoutBuild(t *testing.T) {
	e := newEcho(nil)
	for _, p := range []string{"/", "/some/route"} {
		rec := do(e, "GET", p, nil)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "make web") {
			t.Fatalf("GET %s: %d %q, want the how-to-build page", p, rec.Code, rec.Body.String())
		}
		if cc := rec.Header().Get("Cache-Control"); cc != cacheRevalidate {
			t.Errorf("Cache-Control = %q", cc)
		}
		checkSecurityHeaders(t, rec.Header(), true)
	}
	if rec := do(e, "GET", "/_matrix/x", nil); rec.Code != 404 {
		t.Fatalf("GET /_matrix/x = %d, want 404", rec.Code)
	}
}

// The committed binary must build and serve without Node: the embedded
// directory exists and Register works whether or not dist/client was built.
func TestRegisterEmbedded(t *testing.T) {
	e := echoserver.New(echoserver.Options{})
	Register(e)
	rec := do(e, "GET", "/", nil)
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}

func TestGzip(t *testing.T) {
	e := newEcho(builtFS)
	tests := []struct {
		accept string
		gz     bool
	}{
		{"gzip, deflate, br", true},
		{"br;q=1, gzip;q=0.5", true},
		{"gzip;q=0", false},
		{"identity", false},
		{"", false},
	}
	for _, tt := range tests {
		rec := do(e, "GET", "/assets/index-abc123.js", map[string]string{"Accept-Encoding": tt.accept})
		got := rec.Header().Get("Content-Encoding") == "gzip"
		if got != tt.gz {
			t.Fatalf("Accept-Encoding %q: gzip = %v, want %v", tt.accept, got, tt.gz)
		}
		body := rec.Body.Bytes()
		if got {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(body, builtFS["assets/index-abc123.js"].Data) {
			t.Fatalf("Accept-Encoding %q: body differs from the file", tt.accept)
		}
	}
	// Tiny files are sent as they are.
	if rec := do(e, "GET", "/assets/index-abc123.css", map[string]string{"Accept-Encoding": "gzip"}); rec.Header().Get("Content-Encoding") != "" {
		t.Fatal("tiny css was gzipped")
	}
}
