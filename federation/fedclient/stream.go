package fedclient

import (
	"context"
	"fmt"
	"net/http"

	"github.com/kabarchat/kabar/federation/xmatrix"
	"github.com/kabarchat/kabar/models/spec"
)

// GetStream sends a signed GET for path (with its query) to destination and
// returns the response unread, whatever its status, for answers too large
// to buffer (federated media, content_repository.yaml). The caller closes
// the body and bounds how much it reads.
func (c *Client) GetStream(ctx context.Context, destination spec.ServerName, path string) (*http.Response, error) {
	auth, err := xmatrix.Sign(c.opts.Key, c.opts.ServerName, string(destination), http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	t := c.resolver.resolve(ctx, string(destination))
	ctx = context.WithValue(ctx, dialAddrKey{}, t.Addr)
	_, port := splitServerName(t.Addr)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+hostPort(t.TLSName, port)+path, nil)
	if err != nil {
		return nil, fmt.Errorf("build request to %s: %w", t.Host, err)
	}
	req.Host = t.Host
	req.Header.Set("Authorization", auth)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s on %s: %w", path, t.Host, err)
	}
	return resp, nil
}
