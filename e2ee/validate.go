package e2ee

import (
	"crypto/ed25519"
	"encoding/base64"
	"strings"

	"github.com/kabarchat/kabar/federation/canonicaljson"
	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models/spec"
)

// decodeObject parses a key object strictly (its signatures cover the
// canonical JSON, so what we store must be exactly what was signed).
func decodeObject(raw []byte, what string) (map[string]any, error) {
	tree, err := canonicaljson.Decode(raw)
	if err != nil {
		return nil, spec.BadJSON("%s: %v", what, err)
	}
	obj, ok := tree.(map[string]any)
	if !ok {
		return nil, spec.BadJSON("%s must be an object", what)
	}
	return obj, nil
}

// stringMap checks that obj[field] is an object of strings.
func stringMap(obj map[string]any, field, what string) (map[string]string, error) {
	m, ok := obj[field].(map[string]any)
	if !ok {
		return nil, spec.BadJSON("%s: %s must be an object", what, field)
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			return nil, spec.BadJSON("%s: %s.%s must be a string", what, field, k)
		}
		out[k] = s
	}
	return out, nil
}

// signaturesOf checks the signatures field shape: user ID -> key ID -> sig.
func signaturesOf(obj map[string]any, what string) (map[string]map[string]string, error) {
	raw, ok := obj["signatures"].(map[string]any)
	if !ok {
		return nil, spec.BadJSON("%s: signatures must be an object", what)
	}
	out := make(map[string]map[string]string, len(raw))
	for user := range raw {
		m, err := stringMap(raw, user, what+": signatures")
		if err != nil {
			return nil, err
		}
		out[user] = m
	}
	return out, nil
}

// ed25519Key decodes an unpadded base64 ed25519 public key.
func ed25519Key(b64 string) (ed25519.PublicKey, bool) {
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(b64, "="))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, false
	}
	return ed25519.PublicKey(b), true
}

// verify checks the signature of signer's key keyID ("ed25519:<id>") on raw.
func verify(raw []byte, signer, keyID string, pub ed25519.PublicKey) error {
	if err := event.VerifyJSON(raw, signer, keyID, pub); err != nil {
		return spec.NewError(400, spec.ErrInvalidSignature, "invalid signature by %s %s", signer, keyID)
	}
	return nil
}

// canonical re-encodes obj canonically, without "unsigned" (which is the
// server's to fill in).
func canonical(obj map[string]any) (string, error) {
	delete(obj, "unsigned")
	b, err := canonicaljson.Encode(obj)
	if err != nil {
		return "", spec.BadJSON("cannot encode key object: %v", err)
	}
	return string(b), nil
}

// validateDeviceKeys checks a DeviceKeys object uploaded by userID's
// deviceID (client-server-api "POST /keys/upload": user_id and device_id
// must match the login, and the object must be self-signed with the
// device's ed25519 key) and returns its canonical form.
func validateDeviceKeys(raw []byte, userID, deviceID string) (string, error) {
	obj, err := decodeObject(raw, "device_keys")
	if err != nil {
		return "", err
	}
	if u, _ := obj["user_id"].(string); u != userID {
		return "", spec.InvalidParam("device_keys.user_id must be %s", userID)
	}
	if d, _ := obj["device_id"].(string); d != deviceID {
		return "", spec.InvalidParam("device_keys.device_id must be %s", deviceID)
	}
	algs, ok := obj["algorithms"].([]any)
	if !ok {
		return "", spec.BadJSON("device_keys.algorithms must be an array")
	}
	for _, a := range algs {
		if _, ok := a.(string); !ok {
			return "", spec.BadJSON("device_keys.algorithms must hold strings")
		}
	}
	keys, err := stringMap(obj, "keys", "device_keys")
	if err != nil {
		return "", err
	}
	if _, err := signaturesOf(obj, "device_keys"); err != nil {
		return "", err
	}
	keyID := "ed25519:" + deviceID
	pub, ok := ed25519Key(keys[keyID])
	if !ok {
		return "", spec.BadJSON("device_keys.keys must hold a valid %s", keyID)
	}
	if err := verify(raw, userID, keyID, pub); err != nil {
		return "", err
	}
	return canonical(obj)
}

// signedAlgorithm is the one-time/fallback key algorithm whose keys must be
// signed KeyObjects (client-server-api modules/end_to_end_encryption.md
// "Key algorithms": signatures is required).
const signedAlgorithm = "signed_curve25519"

// validateOneTimeKey checks one "<algorithm>:<id>" one-time or fallback key
// uploaded by userID: an unsigned key string, or a signed key object with a
// "key" string. A signed_curve25519 key must be a KeyObject signed by
// userID (as Synapse requires: 400 M_BAD_JSON otherwise).
func validateOneTimeKey(keyID string, raw []byte, userID string) (algorithm, canon string, err error) {
	alg, id, ok := strings.Cut(keyID, ":")
	if !ok || alg == "" || id == "" {
		return "", "", spec.BadJSON("key ID %q must be <algorithm>:<key_id>", keyID)
	}
	tree, derr := canonicaljson.Decode(raw)
	if derr != nil {
		return "", "", spec.BadJSON("key %s: %v", keyID, derr)
	}
	switch v := tree.(type) {
	case string:
		if alg == signedAlgorithm {
			return "", "", spec.BadJSON("key %s: a %s key must be an object with key and signatures", keyID, alg)
		}
		b, _ := canonicaljson.Encode(v)
		return alg, string(b), nil
	case map[string]any:
		if _, ok := v["key"].(string); !ok {
			return "", "", spec.BadJSON("key %s: key must be a string", keyID)
		}
		_, present := v["signatures"]
		if !present && alg == signedAlgorithm {
			return "", "", spec.BadJSON("key %s: signatures is required", keyID)
		}
		if present {
			sigs, err := signaturesOf(v, "key "+keyID)
			if err != nil {
				return "", "", err
			}
			if alg == signedAlgorithm && len(sigs[userID]) == 0 {
				return "", "", spec.BadJSON("key %s: signatures must hold a signature by %s", keyID, userID)
			}
		}
		c, err := canonical(v)
		return alg, c, err
	default:
		return "", "", spec.BadJSON("key %s must be a string or an object", keyID)
	}
}
