package fedclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/kabarchat/kabar/federation/xmatrix"
	"github.com/kabarchat/kabar/models/spec"
)

// defaultStreamIdle is how long a streamed body may send nothing before the
// request is abandoned.
const defaultStreamIdle = 30 * time.Second

// GetStream sends a signed GET for path (with its query) to destination and
// returns the response unread, whatever its status, for answers too large
// to buffer (federated media, content_repository.yaml). The caller closes
// the body and bounds how much it reads.
//
// Unlike Do, no whole-request deadline applies: a 100 MB file over a slow
// link must not time out while bytes still flow. The transport bounds dial,
// TLS and the wait for headers; after that the body fails once it stays
// silent for Options.StreamIdleTimeout.
func (c *Client) GetStream(ctx context.Context, destination spec.ServerName, path string) (*http.Response, error) {
	auth, err := xmatrix.Sign(c.opts.Key, c.opts.ServerName, string(destination), http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	return c.stream(ctx, destination, path, auth)
}

// GetStreamUnsigned is GetStream without the X-Matrix header, for the
// deprecated /_matrix/media/v3 endpoints that servers older than Matrix
// 1.11 serve on their federation address (server-server-api "Content
// Repository": the fallback after 404 M_UNRECOGNIZED). Such an endpoint
// could read an Authorization header as a client access token, so none is
// sent.
func (c *Client) GetStreamUnsigned(ctx context.Context, destination spec.ServerName, path string) (*http.Response, error) {
	return c.stream(ctx, destination, path, "")
}

func (c *Client) stream(ctx context.Context, destination spec.ServerName, path, auth string) (*http.Response, error) {
	t := c.resolver.resolve(ctx, string(destination))
	ctx, cancel := context.WithCancel(context.WithValue(ctx, dialAddrKey{}, t.Addr))
	_, port := splitServerName(t.Addr)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+hostPort(t.TLSName, port)+path, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("build request to %s: %w", t.Host, err)
	}
	req.Host = t.Host
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	// The same transport (pool, dialer, TLS roots, header timeout), without
	// http.Client.Timeout, which would also cover reading the body.
	resp, err := (&http.Client{Transport: c.http.Transport}).Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("GET %s on %s: %w", path, t.Host, err)
	}
	idle := c.opts.StreamIdleTimeout
	if idle <= 0 {
		idle = defaultStreamIdle
	}
	b := &idleBody{body: resp.Body, cancel: cancel, idle: idle, host: t.Host}
	b.timer = time.AfterFunc(idle, func() { b.expired.Store(true); cancel() })
	resp.Body = b
	return resp, nil
}

// idleBody cancels the request when the caller waits longer than idle for
// bytes. The timer runs from the response until the first Read, and then
// only while a Read is blocked: a slow consumer (disk) is not the peer's
// fault.
type idleBody struct {
	body    io.ReadCloser
	cancel  context.CancelFunc
	idle    time.Duration
	host    string
	timer   *time.Timer
	expired atomic.Bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.timer.Reset(b.idle)
	n, err := b.body.Read(p)
	b.timer.Stop()
	// A cancelled read may end as a clean EOF: never let a truncated body
	// look complete.
	if b.expired.Load() {
		return n, fmt.Errorf("%s sent nothing for %v: %w", b.host, b.idle, context.DeadlineExceeded)
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	b.cancel()
	return b.body.Close()
}
