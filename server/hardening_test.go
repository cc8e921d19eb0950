package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/configs"
)

// hardener walks every registered route with hostile requests and collects
// the answers that break the promise of DESIGN.md style rule 3.
type hardener struct {
	ts     *testServer
	fedURL string
	client *http.Client
	valid  map[string]string // path parameter -> a value that exists
	other  map[string]string // path parameter -> another user's value
	alice  string            // alice's access token
	// sign, when set, signs federation requests with X-Matrix.
	sign func(method, uri string, body []byte) string
	// statuses, when set, counts the answers by status (for the log).
	statuses map[int]int
	sent     int
	failures map[string]string // dedup key -> first failure
	order    []string
}

// routeTarget is one route on one listener.
type routeTarget struct {
	base  string // listener URL
	route echo.Route
}

// key is the route's name in publicRoutes: r0 is checked as its v3 twin.
func (tg routeTarget) key() string {
	return tg.route.Method + " " + strings.Replace(tg.route.Path, "/_matrix/client/r0/", "/_matrix/client/v3/", 1)
}

func (tg routeTarget) isR0() bool { return strings.HasPrefix(tg.route.Path, "/_matrix/client/r0/") }

func (tg routeTarget) isFederation() bool {
	return strings.HasPrefix(tg.route.Path, "/_matrix/federation/") || strings.HasPrefix(tg.route.Path, "/_matrix/key/")
}

// rank orders the walk: routes that end alice's membership or session go
// last so that they do not mask the others.
func (tg routeTarget) rank() int {
	p := tg.route.Path
	switch {
	case strings.Contains(p, "/logout"):
		return 3
	case strings.Contains(p, "/deactivate") || strings.Contains(p, "/account/password") ||
		strings.Contains(p, "delete_devices") || (tg.route.Method == http.MethodDelete && strings.Contains(p, "/devices/")):
		return 2
	case strings.Contains(p, "/leave") || strings.Contains(p, "/forget") || strings.Contains(p, "/kick") ||
		strings.Contains(p, "/ban") || strings.Contains(p, "/upgrade"):
		return 1
	}
	return 0
}

// params lists the route's path parameters in order.
func (tg routeTarget) params() []string {
	var out []string
	for _, seg := range strings.Split(tg.route.Path, "/") {
		if strings.HasPrefix(seg, ":") {
			out = append(out, seg[1:])
		}
	}
	return out
}

// path fills the route's parameters from vals, replacing the one named
// swap (if any) with raw.
func (tg routeTarget) path(vals map[string]string, swap, raw string) string {
	segs := strings.Split(tg.route.Path, "/")
	for i, seg := range segs {
		if !strings.HasPrefix(seg, ":") {
			continue
		}
		name := seg[1:]
		v, ok := vals[name]
		if !ok {
			v = "x"
		}
		if name == swap {
			v = raw
		}
		segs[i] = url.PathEscape(v)
	}
	return strings.Join(segs, "/")
}

// request describes one hostile request.
type request struct {
	tg      routeTarget
	label   string
	method  string
	path    string // already escaped, may carry a query
	token   string
	auth    string // raw Authorization header, overrides token
	body    []byte
	withBob bool // path carries another user's IDs
}

func (h *hardener) send(t *testing.T, r request) (int, []byte) {
	t.Helper()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, r.tg.base+r.path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.auth == "" && h.sign != nil && r.tg.isFederation() {
		r.auth = h.sign(r.method, r.path, r.body)
	}
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	h.sent++
	resp, err := h.client.Do(req)
	if err != nil {
		h.fail(r, 0, "transport: "+err.Error())
		return 0, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	h.check(r, resp.StatusCode, data)
	if h.statuses != nil {
		h.statuses[resp.StatusCode]++
	}
	return resp.StatusCode, data
}

// check applies the promise to every answer.
func (h *hardener) check(r request, status int, data []byte) {
	if status >= 500 {
		remote := (status == http.StatusBadGateway || status == http.StatusGatewayTimeout) &&
			remoteRoutePattern.MatchString(r.tg.route.Path)
		if !remote {
			h.fail(r, status, string(data))
			return
		}
	}
	if status < 400 || r.method == http.MethodHead {
		return
	}
	var e map[string]any
	if err := json.Unmarshal(data, &e); err != nil {
		h.fail(r, status, "error body is not a JSON object: "+string(data))
		return
	}
	msg, _ := e["error"].(string)
	if leakPatterns.MatchString(msg) {
		h.fail(r, status, "leaks internals: "+string(data))
		return
	}
	if _, uia := e["flows"]; uia && status == http.StatusUnauthorized {
		return // a user-interactive auth challenge needs no errcode
	}
	code, _ := e["errcode"].(string)
	if !strings.HasPrefix(code, "M_") || msg == "" {
		h.fail(r, status, "not a Matrix error: "+string(data))
	}
}

func (h *hardener) fail(r request, status int, what string) {
	key := fmt.Sprintf("%s %s [%s] %d", r.method, r.tg.route.Path, r.label, status)
	if _, seen := h.failures[key]; seen {
		return
	}
	if len(what) > 300 {
		what = what[:300] + "..."
	}
	h.failures[key] = fmt.Sprintf("%s: %s %s -> %s", key, r.method, truncate(r.path, 200), what)
	h.order = append(h.order, key)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// hardeningConfig opens registration and serves federation over plain
// HTTP so that both route tables can be walked.
func hardeningConfig(c *configs.Config) {
	c.Registration.Mode = configs.RegistrationOpen
	c.Federation.Listen = "127.0.0.1:0"
}

func TestHardeningEveryRoute(t *testing.T) {
	if testing.Short() {
		t.Skip("walks every route")
	}
	eachServer(t, hardeningConfig, func(t *testing.T, ts *testServer) {
		start := time.Now()
		h := newHardener(t, ts)
		targets := h.targets()
		for _, tg := range targets {
			h.walkAuth(t, tg)
		}
		for _, tg := range targets {
			h.walk(t, tg)
		}
		for _, key := range h.order {
			t.Error(h.failures[key])
		}
		t.Logf("%d routes, %d hostile requests, %d distinct failures, %s; by status: %v",
			len(targets), h.sent, len(h.order), time.Since(start).Round(time.Millisecond), h.statuses)
	})
}

// targets lists every concrete route of both listeners in walk order.
func (h *hardener) targets() []routeTarget {
	var out []routeTarget
	add := func(base string, routes []*echo.Route) {
		for _, r := range routes {
			if strings.Contains(r.Path, "*") || r.Method == echo.RouteNotFound || r.Method == "echo_route_not_found" {
				continue
			}
			out = append(out, routeTarget{base: base, route: *r})
		}
	}
	add(h.ts.URL, h.ts.srv.client.Routes())
	if h.fedURL != "" {
		add(h.fedURL, h.ts.srv.fed.echo.Routes())
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].rank() != out[j].rank() {
			return out[i].rank() < out[j].rank()
		}
		return out[i].route.Method+out[i].route.Path < out[j].route.Method+out[j].route.Path
	})
	return out
}
