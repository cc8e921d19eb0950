package xmatrix

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"

	"github.com/kabarchat/kabar/federation/canonicaljson"
	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/keys"
)

// requestJSON builds the object that is signed (step 1 of "Request
// Authentication"): method, uri (path and query), origin, destination and,
// if there is a body, the JSON-parsed content.
func requestJSON(method, uri, origin, destination string, body []byte, sig *Params) ([]byte, error) {
	obj := map[string]any{"method": method, "uri": uri, "origin": origin, "destination": destination}
	if len(body) > 0 {
		content, err := canonicaljson.DecodeCompat(body)
		if err != nil {
			return nil, fmt.Errorf("request body is not JSON: %w", err)
		}
		obj["content"] = content
	}
	if sig != nil {
		obj["signatures"] = map[string]any{sig.Origin: map[string]any{sig.Key: sig.Sig}}
	}
	return canonicaljson.Encode(obj)
}

// Sign returns the Authorization header value for a request.
func Sign(key *keys.SigningKey, origin, destination, method, uri string, body []byte) (string, error) {
	data, err := requestJSON(method, uri, origin, destination, body, nil)
	if err != nil {
		return "", err
	}
	signed, err := key.SignJSON(data, origin)
	if err != nil {
		return "", fmt.Errorf("sign request: %w", err)
	}
	var s struct {
		Signatures map[string]map[string]string `json:"signatures"`
	}
	if err := json.Unmarshal(signed, &s); err != nil {
		return "", fmt.Errorf("read request signature: %w", err)
	}
	p := Params{Origin: origin, Destination: destination, Key: key.ID, Sig: s.Signatures[origin][key.ID]}
	return p.Format(), nil
}

// KeyFunc returns a server's current verify key (the key ring).
type KeyFunc func(ctx context.Context, server, keyID string, validAt int64) (ed25519.PublicKey, error)

// Verify checks an incoming request's Authorization header against the
// request and our server name, and returns the authenticated origin.
func Verify(ctx context.Context, header, self, method, uri string, body []byte, keyOf KeyFunc, now int64) (string, error) {
	p, err := Parse(header)
	if err != nil {
		return "", err
	}
	// The destination parameter is optional for older senders but must
	// match us when present.
	if p.Destination != "" && p.Destination != self {
		return "", fmt.Errorf("request is for %q, not us", p.Destination)
	}
	pub, err := keyOf(ctx, p.Origin, p.Key, now)
	if err != nil {
		return "", fmt.Errorf("key %s of %s: %w", p.Key, p.Origin, err)
	}
	withSig, err := requestJSON(method, uri, p.Origin, self, body, &p)
	if err != nil {
		return "", err
	}
	if err := event.VerifyJSON(withSig, p.Origin, p.Key, pub); err != nil {
		return "", fmt.Errorf("request signature: %w", err)
	}
	return p.Origin, nil
}
