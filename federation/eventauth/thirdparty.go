package eventauth

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/kabarchat/kabar/federation/canonicaljson"
)

// checkThirdPartyInvite is rule 5.4.1 (after the ban check): an invite that
// redeems an m.room.third_party_invite must carry a `signed` block, for the
// invited user, signed by one of that event's public keys.
func (a *authContext) checkThirdPartyInvite(target string, mc memberContent) error {
	signedRaw, ok := parseObject(mc.ThirdPartyInviteRaw)["signed"]
	if !ok {
		return deny("third_party_invite has no signed block")
	}
	signed := parseObject(signedRaw)
	mxid, okM := stringField(signed, "mxid")
	token, okT := stringField(signed, "token")
	if !okM || !okT {
		return deny("third_party_invite.signed needs mxid and token")
	}
	if mxid != target {
		return deny("third_party_invite.signed.mxid does not match the invited user")
	}
	tpi, err := a.get(TypeThirdPartyInvite, token)
	if err != nil {
		return err
	}
	if tpi == nil {
		return deny("no third party invite for this token")
	}
	if tpi.Sender() != a.ev.Sender() {
		return deny("third party invite was sent by another user")
	}
	if signedByAny(signedRaw, signed, publicKeys(tpi.Content())) {
		return nil
	}
	return deny("third_party_invite signature does not match the invite's public keys")
}

// publicKeys collects content.public_key and content.public_keys[].public_key
// (client-server-api, m.room.third_party_invite).
func publicKeys(content []byte) []ed25519.PublicKey {
	obj := parseObject(content)
	var encoded []string
	if k, ok := stringField(obj, "public_key"); ok {
		encoded = append(encoded, k)
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(obj["public_keys"], &list); err == nil {
		for _, entry := range list {
			if k, ok := stringField(entry, "public_key"); ok {
				encoded = append(encoded, k)
			}
		}
	}
	var keys []ed25519.PublicKey
	for _, e := range encoded {
		if b := decodeBase64(e); len(b) == ed25519.PublicKeySize {
			keys = append(keys, ed25519.PublicKey(b))
		}
	}
	return keys
}

// signedByAny verifies every signature in signed.signatures against every
// key. The signed bytes are the canonical JSON of `signed` without
// "signatures" (appendices, "Signing JSON").
func signedByAny(signedRaw []byte, signed map[string]json.RawMessage, keys []ed25519.PublicKey) bool {
	var sigs map[string]map[string]string
	if err := json.Unmarshal(signed["signatures"], &sigs); err != nil || len(keys) == 0 {
		return false
	}
	msg, err := canonicalWithout(signedRaw, "signatures", "unsigned")
	if err != nil {
		return false
	}
	for _, byKey := range sigs {
		for _, sigB64 := range byKey {
			sig := decodeBase64(sigB64)
			for _, k := range keys {
				if len(sig) == ed25519.SignatureSize && ed25519.Verify(k, msg, sig) {
					return true
				}
			}
		}
	}
	return false
}

// canonicalWithout re-encodes a JSON object as canonical JSON without some
// keys.
func canonicalWithout(obj []byte, drop ...string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil, err
	}
	for _, k := range drop {
		delete(m, k)
	}
	return canonicaljson.Marshal(m)
}

// decodeBase64 accepts unpadded standard or URL-safe base64, and padded
// forms from lenient senders.
func decodeBase64(s string) []byte {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b
	}
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b
	}
	return nil
}
