package keys

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/kabarchat/kabar/federation/canonicaljson"
	"github.com/kabarchat/kabar/federation/event"
)

// OldKey is a key we used before a rotation. Remote servers still need it to
// verify our old events, so it is published under old_verify_keys
// (server-server-api "Publishing Keys").
type OldKey struct {
	ID        string
	Public    ed25519.PublicKey
	ExpiredTS int64
}

// ServerKeys is the response body of GET /_matrix/key/v2/server.
type ServerKeys struct {
	ServerName    string                       `json:"server_name"`
	VerifyKeys    map[string]VerifyKey         `json:"verify_keys"`
	OldVerifyKeys map[string]OldVerifyKey      `json:"old_verify_keys,omitempty"`
	ValidUntilTS  int64                        `json:"valid_until_ts"`
	Signatures    map[string]map[string]string `json:"signatures,omitempty"`
}

// VerifyKey is one entry of verify_keys.
type VerifyKey struct {
	Key string `json:"key"`
}

// OldVerifyKey is one entry of old_verify_keys.
type OldVerifyKey struct {
	Key       string `json:"key"`
	ExpiredTS int64  `json:"expired_ts"`
}

// Publish builds and signs our key response, valid for validity from now.
// Every key in verify_keys signs it, as the spec requires.
func Publish(serverName string, key *SigningKey, old []OldKey, now time.Time, validity time.Duration) ([]byte, error) {
	obj := map[string]any{
		"server_name":    serverName,
		"verify_keys":    map[string]any{key.ID: map[string]any{"key": b64(key.Public())}},
		"valid_until_ts": now.Add(validity).UnixMilli(),
	}
	if len(old) > 0 {
		olds := map[string]any{}
		for _, o := range old {
			olds[o.ID] = map[string]any{"key": b64(o.Public), "expired_ts": o.ExpiredTS}
		}
		obj["old_verify_keys"] = olds
	}
	data, err := canonicaljson.Encode(obj)
	if err != nil {
		return nil, fmt.Errorf("encode server keys: %w", err)
	}
	return event.SignJSON(data, serverName, key.ID, key.private)
}

// SignJSON adds our signature to a JSON object (a notary countersigning a
// key response, or an X-Matrix request).
func (k *SigningKey) SignJSON(data []byte, serverName string) ([]byte, error) {
	return event.SignJSON(data, serverName, k.ID, k.private)
}

func b64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }
