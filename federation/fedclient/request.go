package fedclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kabarchat/kabar/federation/xmatrix"
	"github.com/kabarchat/kabar/models/spec"
)

// maxResponse bounds a response body we read (a send_join state can be big).
const maxResponse = 64 << 20

// HTTPError is a non-2xx answer from a remote server.
type HTTPError struct {
	Status  int
	Errcode string
	Message string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("remote answered %d %s: %s", e.Status, e.Errcode, e.Message)
}

// Resolve returns where serverName is reached (exported for diagnostics).
func (c *Client) Resolve(ctx context.Context, serverName string) Target {
	return c.resolver.resolve(ctx, serverName)
}

// Do sends a signed request to destination and decodes a 2xx JSON answer
// into out (if not nil). body is marshalled as JSON unless nil; a []byte or
// json.RawMessage is sent as is.
func (c *Client) Do(ctx context.Context, destination spec.ServerName, method, path string, body, out any) error {
	var data []byte
	if body != nil {
		var err error
		if raw, ok := body.(json.RawMessage); ok {
			data = raw
		} else if data, err = json.Marshal(body); err != nil {
			return fmt.Errorf("encode request to %s: %w", destination, err)
		}
	}
	auth, err := xmatrix.Sign(c.opts.Key, c.opts.ServerName, string(destination), method, path, data)
	if err != nil {
		return err
	}
	resp, err := c.send(ctx, string(destination), method, path, data, auth)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp, out); err != nil {
		return fmt.Errorf("decode %s %s from %s: %w", method, path, destination, err)
	}
	return nil
}

// KeyRequest makes an unauthenticated key API request (keys.Transport).
func (c *Client) KeyRequest(ctx context.Context, server, method, path string, body []byte) ([]byte, error) {
	return c.send(ctx, server, method, path, body, "")
}

// send resolves the server, sends the request and returns a 2xx body.
func (c *Client) send(ctx context.Context, server, method, path string, body []byte, auth string) ([]byte, error) {
	t := c.resolver.resolve(ctx, server)
	return c.roundTrip(ctx, t, method, path, body, auth)
}

func (c *Client) roundTrip(ctx context.Context, t Target, method, path string, body []byte, auth string) ([]byte, error) {
	ctx = context.WithValue(ctx, dialAddrKey{}, t.Addr)
	// The URL host is the TLS name (with the dialled port, so pooled
	// connections are not shared across targets); the Host header is set
	// separately as discovery says.
	_, port := splitServerName(t.Addr)
	url := "https://" + hostPort(t.TLSName, port) + path
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request to %s: %w", t.Host, err)
	}
	req.Host = t.Host
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s on %s: %w", method, path, t.Host, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("read answer of %s: %w", t.Host, err)
	}
	if len(data) > maxResponse {
		return nil, fmt.Errorf("answer of %s is over %d bytes", t.Host, maxResponse)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Errcode string `json:"errcode"`
			Error   string `json:"error"`
		}
		json.Unmarshal(data, &e)
		return nil, &HTTPError{Status: resp.StatusCode, Errcode: e.Errcode, Message: e.Error}
	}
	return data, nil
}

func hostPort(host, port string) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" {
		return host
	}
	return host + ":" + port
}

// fetchWellKnown asks https://<hostname>/.well-known/matrix/server (step 3
// of "Resolving server names"); redirects are followed by net/http, which
// stops after 10 (a loop). Any failure or invalid body is an error.
func (c *Client) fetchWellKnown(ctx context.Context, hostname string) (string, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "https://"+hostPort(hostname, "")+"/.well-known/matrix/server", nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("well-known of %s: status %d", hostname, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", 0, err
	}
	server, err := parseWellKnown(data)
	if err != nil {
		return "", 0, fmt.Errorf("well-known of %s: %w", hostname, err)
	}
	return server, cacheTTL(resp.Header.Get("Cache-Control"), resp.Header.Get("Expires"), time.Now()), nil
}

// parseWellKnown reads m.server and checks it is a server name.
func parseWellKnown(data []byte) (string, error) {
	var wk struct {
		Server *string `json:"m.server"`
	}
	if err := json.Unmarshal(data, &wk); err != nil {
		return "", fmt.Errorf("bad JSON: %w", err)
	}
	if wk.Server == nil {
		return "", errors.New("m.server is missing")
	}
	if _, err := spec.ParseServerName(*wk.Server); err != nil {
		return "", fmt.Errorf("m.server: %w", err)
	}
	return *wk.Server, nil
}

// cacheTTL honours Cache-Control max-age (and no-store/no-cache as zero)
// or Expires, defaulting to 24 hours and capped at 48.
func cacheTTL(cacheControl, expires string, now time.Time) time.Duration {
	const def, maxTTL = 24 * time.Hour, 48 * time.Hour
	for _, d := range strings.Split(cacheControl, ",") {
		d = strings.TrimSpace(strings.ToLower(d))
		if d == "no-store" || d == "no-cache" {
			return 0
		}
		if v, ok := strings.CutPrefix(d, "max-age="); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				return min(time.Duration(n)*time.Second, maxTTL)
			}
		}
	}
	if t, err := http.ParseTime(expires); err == nil {
		return min(max(t.Sub(now), 0), maxTTL)
	}
	return def
}
