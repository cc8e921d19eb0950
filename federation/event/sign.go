package event

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kabarchat/kabar/federation/canonicaljson"
)

// KeyLookup returns the ed25519 verify key that serverName publishes under
// keyID, or nil if the key is unknown or known to have expired before
// validAt (milliseconds since the epoch; 0 means "at any time"). It may do
// I/O through a context the caller captures.
type KeyLookup func(serverName, keyID string, validAt int64) ed25519.PublicKey

// ErrNoKnownKey: no signature from a known key of a required server.
var ErrNoKnownKey = errors.New("no signature from a known key")

// SignJSON signs a JSON object as appendices "Signing Details" describes:
// the canonical JSON without signatures and unsigned is signed and the
// unpadded base64 signature is added under signatures.<serverName>.<keyID>.
// The result is canonical JSON and keeps unsigned and earlier signatures.
func SignJSON(data []byte, serverName, keyID string, key ed25519.PrivateKey) ([]byte, error) {
	obj, err := decodeJSONObject(data)
	if err != nil {
		return nil, err
	}
	payload, err := jsonPayload(obj)
	if err != nil {
		return nil, err
	}
	if err := addSignature(obj, serverName, keyID, ed25519.Sign(key, payload)); err != nil {
		return nil, err
	}
	return encode(obj)
}

// VerifyJSON checks signatures.<serverName>.<keyID> on a JSON object
// (appendices "Checking for a Signature", steps 4-7).
func VerifyJSON(data []byte, serverName, keyID string, pub ed25519.PublicKey) error {
	obj, err := decodeJSONObject(data)
	if err != nil {
		return err
	}
	payload, err := jsonPayload(obj)
	if err != nil {
		return err
	}
	sigs, _ := obj["signatures"].(map[string]any)
	server, _ := sigs[serverName].(map[string]any)
	sig, ok := server[keyID].(string)
	if !ok {
		return fmt.Errorf("%w: no signature from %s with %s", ErrSignature, serverName, keyID)
	}
	return verifyOne(serverName, keyID, sig, pub, payload)
}

// decodeJSONObject decodes a strict canonical-JSON object.
func decodeJSONObject(data []byte) (map[string]any, error) {
	tree, err := canonicaljson.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	obj, ok := tree.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	return obj, nil
}

// jsonPayload is the canonical JSON without signatures and unsigned.
func jsonPayload(obj map[string]any) ([]byte, error) {
	stripped := maps.Clone(obj)
	delete(stripped, "signatures")
	delete(stripped, "unsigned")
	b, err := encode(stripped)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return b, nil
}

// addSignature sets signatures.<server>.<keyID> in obj, copying the nested
// maps so trees shared with other events stay untouched.
func addSignature(obj map[string]any, serverName, keyID string, sig []byte) error {
	sigs := map[string]any{}
	if old, ok := obj["signatures"]; ok {
		m, ok := old.(map[string]any)
		if !ok {
			return fmt.Errorf("%w: signatures is not an object", ErrMalformed)
		}
		sigs = maps.Clone(m)
	}
	server := map[string]any{}
	if old, ok := sigs[serverName]; ok {
		m, ok := old.(map[string]any)
		if !ok {
			return fmt.Errorf("%w: signatures.%s is not an object", ErrMalformed, serverName)
		}
		server = maps.Clone(m)
	}
	server[keyID] = EncodeBase64(sig)
	sigs[serverName] = server
	obj["signatures"] = sigs
	return nil
}

func verifyOne(serverName, keyID, sig string, pub ed25519.PublicKey, payload []byte) error {
	raw, err := decodeBase64(sig)
	if err != nil || len(raw) != ed25519.SignatureSize || len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: bad signature encoding from %s %s", ErrSignature, serverName, keyID)
	}
	if !ed25519.Verify(pub, payload, raw) {
		return fmt.Errorf("%w: signature from %s %s does not verify", ErrSignature, serverName, keyID)
	}
	return nil
}

// HashAndSignJSON adds the content hash and a signature to an event given
// as JSON, as server-server-api "Adding hashes and signatures to outgoing
// events" describes: hashes.sha256 over the full event, then the signature
// over the redacted event. It works on partial objects, such as the
// appendix's "Event Signing" test vectors.
func HashAndSignJSON(rv *RoomVersion, data []byte, serverName, keyID string, key ed25519.PrivateKey) ([]byte, error) {
	obj, err := decodeObject(rv, data)
	if err != nil {
		return nil, err
	}
	if err := hashAndSign(rv, obj, serverName, keyID, key); err != nil {
		return nil, err
	}
	return encode(obj)
}

func hashAndSign(rv *RoomVersion, obj map[string]any, serverName, keyID string, key ed25519.PrivateKey) error {
	h, err := contentHash(obj)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	obj["hashes"] = map[string]any{"sha256": EncodeBase64(h[:])}
	return signEvent(rv, obj, serverName, keyID, key)
}

func signEvent(rv *RoomVersion, obj map[string]any, serverName, keyID string, key ed25519.PrivateKey) error {
	payload, err := signedPayload(rv, obj)
	if err != nil {
		return err
	}
	return addSignature(obj, serverName, keyID, ed25519.Sign(key, payload))
}

// Sign returns a copy of the event with serverName's signature added (for
// example when co-signing a restricted join or an invite). Hashes are kept.
func (e *Event) Sign(serverName, keyID string, key ed25519.PrivateKey) (*Event, error) {
	obj := e.tree()
	if err := signEvent(e.rv, obj, serverName, keyID, key); err != nil {
		return nil, err
	}
	return fromObject(e.rv, obj)
}

// RequiredSigners lists the servers whose signatures the event must carry
// (server-server-api "Validating hashes and signatures on received events"):
//   - the sender's server, except for invites made from a third-party
//     invite, which another server may send on the inviter's behalf;
//   - in event format 1 (v1, v2) the server in the event ID;
//   - for restricted joins (v8+), the server of
//     content.join_authorised_via_users_server (rooms/v8 auth rule 4.2.1).
//
// Room version 12 room IDs carry no server, so nothing is derived from them.
func (e *Event) RequiredSigners() []string {
	var servers []string
	add := func(s string) {
		if s != "" && !slices.Contains(servers, s) {
			servers = append(servers, s)
		}
	}
	content := e.obj["content"].(map[string]any)
	membership, _ := content["membership"].(string)
	_, thirdParty := content["third_party_invite"]
	if !(e.typ == typeMember && membership == "invite" && thirdParty) {
		add(serverOf(e.sender))
	}
	if e.rv.EventFormat == 1 {
		add(serverOf(e.eventID))
	}
	if e.rv.Restricted && e.typ == typeMember && membership == "join" {
		if via, ok := content["join_authorised_via_users_server"].(string); ok {
			add(serverOf(via))
		}
	}
	return servers
}

// VerifySignatures checks the signatures of every required signer over
// the redacted event (appendices "Checking for a Signature"). Per server,
// signatures under unknown or expired keys and non-ed25519 algorithms are
// skipped, every signature under a known key must verify, and at least one
// must. From room version 5 keys must be valid at origin_server_ts
// (rooms/fragments/v5-signing-requirements).
func (e *Event) VerifySignatures(lookup KeyLookup) error {
	payload, err := signedPayload(e.rv, e.obj)
	if err != nil {
		return err
	}
	validAt := int64(0)
	if e.rv.EnforceKeyValidity {
		validAt = e.ts
	}
	sigs := e.Signatures()
	for _, server := range e.RequiredSigners() {
		if err := verifyServer(server, sigs[server], payload, lookup, validAt); err != nil {
			return fmt.Errorf("event %s: %w", e.eventID, err)
		}
	}
	return nil
}

func verifyServer(server string, sigs map[string]string, payload []byte, lookup KeyLookup, validAt int64) error {
	verified := 0
	for keyID, sig := range sigs {
		if !strings.HasPrefix(keyID, "ed25519:") {
			continue
		}
		pub := lookup(server, keyID, validAt)
		if pub == nil {
			continue
		}
		if err := verifyOne(server, keyID, sig, pub, payload); err != nil {
			return err
		}
		verified++
	}
	if verified == 0 {
		return fmt.Errorf("%w: %w from %s", ErrSignature, ErrNoKnownKey, server)
	}
	return nil
}

// serverOf returns the server name after the first ':' of an identifier.
func serverOf(id string) string {
	if i := strings.IndexByte(id, ':'); i >= 0 {
		return id[i+1:]
	}
	return ""
}
