package keys

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kabarchat/kabar/federation/canonicaljson"
	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models"
)

// ParseResponse checks a key response of serverName ("Publishing Keys"):
// it names the server, every verify_keys key is a well-formed ed25519 key
// that signed the response, and valid_until_ts is present. The keys come
// back ready to cache, with valid_until_ts capped at 7 days from now.
func ParseResponse(serverName string, body []byte, now time.Time) ([]models.ServerKey, error) {
	canon, err := canonicaljson.CanonicalizeCompat(body)
	if err != nil {
		return nil, fmt.Errorf("key response of %s: %w", serverName, err)
	}
	var resp keyResponse
	if err := json.Unmarshal(canon, &resp); err != nil {
		return nil, fmt.Errorf("key response of %s: %w", serverName, err)
	}
	if resp.ServerName != serverName {
		return nil, fmt.Errorf("key response names %q, want %q", resp.ServerName, serverName)
	}
	if len(resp.VerifyKeys) == 0 || resp.ValidUntilTS <= 0 {
		return nil, fmt.Errorf("key response of %s lacks verify_keys or valid_until_ts", serverName)
	}
	validUntil := min(resp.ValidUntilTS, now.Add(maxValidity).UnixMilli())
	fetched := now.UnixMilli()
	var out []models.ServerKey
	for id, vk := range resp.VerifyKeys {
		pub, err := parseKey(id, vk.Key)
		if err != nil {
			return nil, fmt.Errorf("key response of %s: %w", serverName, err)
		}
		if err := event.VerifyJSON(canon, serverName, id, pub); err != nil {
			return nil, fmt.Errorf("key response of %s is not signed by %s: %w", serverName, id, err)
		}
		out = append(out, models.ServerKey{ServerName: serverName, KeyID: id, PublicKey: vk.Key,
			ValidUntilTS: validUntil, FetchedAt: fetched, Response: string(canon)})
	}
	for id, ok := range resp.OldVerifyKeys {
		if _, err := parseKey(id, ok.Key); err != nil || ok.ExpiredTS <= 0 {
			continue // an unusable old key is skipped, not fatal
		}
		if _, current := resp.VerifyKeys[id]; current {
			continue
		}
		out = append(out, models.ServerKey{ServerName: serverName, KeyID: id, PublicKey: ok.Key,
			ExpiredTS: ok.ExpiredTS, FetchedAt: fetched, Response: string(canon)})
	}
	return out, nil
}

func parseKey(id, key string) (ed25519.PublicKey, error) {
	if len(id) < 9 || id[:8] != "ed25519:" {
		return nil, fmt.Errorf("key %q is not ed25519", id)
	}
	b, err := base64.RawStdEncoding.DecodeString(key)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("key %s is malformed", id)
	}
	return b, nil
}

// notaryResponse is the body of POST /_matrix/key/v2/query.
type notaryResponse struct {
	ServerKeys []json.RawMessage `json:"server_keys"`
}

// fetchViaNotary asks a notary for serverName's keys; each returned response
// must carry both the server's own signature and the notary's.
func (r *Ring) fetchViaNotary(ctx context.Context, n Notary, serverName string) error {
	req, err := json.Marshal(map[string]any{"server_keys": map[string]any{serverName: map[string]any{}}})
	if err != nil {
		return err
	}
	body, err := r.opts.Transport.KeyRequest(ctx, n.ServerName, "POST", "/_matrix/key/v2/query", req)
	if err != nil {
		return err
	}
	var resp notaryResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return fmt.Errorf("notary %s response: %w", n.ServerName, err)
	}
	for _, raw := range resp.ServerKeys {
		if err := r.checkNotarySignature(ctx, n, raw); err != nil {
			return err
		}
		keys, err := ParseResponse(serverName, raw, r.opts.Now())
		if err != nil {
			continue // a response about another server, or a bad one
		}
		if err := r.opts.Store.SaveServerKeys(ctx, keys); err != nil {
			return err
		}
		r.remember(serverName, keys)
		return nil
	}
	return fmt.Errorf("notary %s had no valid keys of %s", n.ServerName, serverName)
}

// checkNotarySignature verifies the notary's signature with its configured
// keys, or with its own keys fetched directly if none are configured.
func (r *Ring) checkNotarySignature(ctx context.Context, n Notary, raw []byte) error {
	canon, err := canonicaljson.CanonicalizeCompat(raw)
	if err != nil {
		return fmt.Errorf("notary %s response: %w", n.ServerName, err)
	}
	var signed struct {
		Signatures map[string]map[string]string `json:"signatures"`
	}
	if err := json.Unmarshal(canon, &signed); err != nil {
		return fmt.Errorf("notary %s response: %w", n.ServerName, err)
	}
	for id := range signed.Signatures[n.ServerName] {
		pub := n.Keys[id]
		if pub == nil && len(n.Keys) == 0 {
			pub, _ = r.VerifyKey(ctx, n.ServerName, id, 0)
		}
		if pub != nil && event.VerifyJSON(canon, n.ServerName, id, pub) == nil {
			return nil
		}
	}
	return fmt.Errorf("response from notary %s lacks its valid signature", n.ServerName)
}
