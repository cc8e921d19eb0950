package e2ee

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/kabarchat/kabar/federation/canonicaljson"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// CrossSigningUpload is the body of POST /keys/device_signing/upload
// (without auth, which the handler consumes).
type CrossSigningUpload struct {
	MasterKey      json.RawMessage `json:"master_key"`
	SelfSigningKey json.RawMessage `json:"self_signing_key"`
	UserSigningKey json.RawMessage `json:"user_signing_key"`
	Auth           json.RawMessage `json:"auth"`
}

type parsedCSK struct {
	usage string
	pub   string
	raw   []byte
	canon string
}

// parseCrossSigningKey checks a CrossSigningKey object: our user, the right
// usage, exactly one ed25519 key whose ID names it.
func parseCrossSigningKey(raw []byte, userID, usage string) (*parsedCSK, error) {
	what := usage + "_key"
	obj, err := decodeObject(raw, what)
	if err != nil {
		return nil, err
	}
	if u, _ := obj["user_id"].(string); u != userID {
		return nil, spec.InvalidParam("%s.user_id must be %s", what, userID)
	}
	usages, _ := obj["usage"].([]any)
	if !slices.Contains(usages, any(usage)) {
		return nil, spec.BadJSON("%s.usage must contain %q", what, usage)
	}
	keys, err := stringMap(obj, "keys", what)
	if err != nil {
		return nil, err
	}
	if len(keys) != 1 {
		return nil, spec.BadJSON("%s.keys must hold exactly one key", what)
	}
	var pub string
	for id, v := range keys {
		alg, name, _ := strings.Cut(id, ":")
		if _, ok := ed25519Key(v); alg != "ed25519" || name != v || !ok {
			return nil, spec.BadJSON("%s.keys must be {\"ed25519:<key>\": \"<key>\"}", what)
		}
		pub = v
	}
	if _, ok := obj["signatures"]; ok {
		if _, err := signaturesOf(obj, what); err != nil {
			return nil, err
		}
	}
	canon, err := canonical(obj)
	if err != nil {
		return nil, err
	}
	return &parsedCSK{usage: usage, pub: pub, raw: raw, canon: canon}, nil
}

// CrossSigningNeedsUIA tells whether an upload must pass UIA
// (cross_signing.yaml): not when the user has no master key yet, nor when
// every key in the request equals the stored one (an idempotent retry).
func (s *Service) CrossSigningNeedsUIA(ctx context.Context, userID string, req CrossSigningUpload) (bool, error) {
	cur, err := s.st.CrossSigningKeys(ctx, userID)
	if err != nil {
		return false, err
	}
	if _, ok := cur["master"]; !ok {
		return false, nil
	}
	for usage, raw := range req.keys() {
		p, err := parseCrossSigningKey(raw, userID, usage)
		if err != nil {
			return false, err
		}
		if cur[usage].KeyJSON != p.canon {
			return true, nil
		}
	}
	return false, nil
}

func (r CrossSigningUpload) keys() map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for usage, raw := range map[string]json.RawMessage{"master": r.MasterKey, "self_signing": r.SelfSigningKey, "user_signing": r.UserSigningKey} {
		if len(raw) > 0 && string(raw) != "null" {
			out[usage] = raw
		}
	}
	return out
}

// UploadCrossSigningKeys validates and stores cross-signing keys: the
// self-signing and user-signing keys must be signed by the master key in
// the request or the stored one, and no key may equal a device ID
// (end_to_end_encryption.md "Cross-signing").
func (s *Service) UploadCrossSigningKeys(ctx context.Context, userID string, req CrossSigningUpload) error {
	parsed := map[string]*parsedCSK{}
	for usage, raw := range req.keys() {
		p, err := parseCrossSigningKey(raw, userID, usage)
		if err != nil {
			return err
		}
		parsed[usage] = p
	}
	if len(parsed) == 0 {
		return nil
	}
	cur, err := s.st.CrossSigningKeys(ctx, userID)
	if err != nil {
		return err
	}
	master := cur["master"].PublicKey
	if p := parsed["master"]; p != nil {
		master = p.pub
	}
	devices, err := s.st.ListDevices(ctx, userID)
	if err != nil {
		return err
	}
	var rows []models.CrossSigningKey
	for usage, p := range parsed {
		if slices.ContainsFunc(devices, func(d models.Device) bool { return d.DeviceID == p.pub }) {
			return spec.Forbidden("key ID in use by a device")
		}
		if usage != "master" {
			if master == "" {
				return spec.MissingParam("no master signing key is available")
			}
			pub, _ := ed25519Key(master)
			if err := verify(p.raw, userID, "ed25519:"+master, pub); err != nil {
				return err
			}
		}
		rows = append(rows, models.CrossSigningKey{UserID: userID, KeyType: usage, PublicKey: p.pub, KeyJSON: p.canon})
	}
	if err := s.st.PutCrossSigningKeys(ctx, rows); err != nil {
		return err
	}
	if err := s.recordChange(ctx, userID, nil, false); err != nil {
		return err
	}
	s.sendSigningKeyUpdate(ctx, userID, parsed)
	return nil
}

// sendSigningKeyUpdate queues m.signing_key_update (server-server-api
// "Cross-signing") when the master or self-signing key changed.
func (s *Service) sendSigningKeyUpdate(ctx context.Context, userID string, parsed map[string]*parsedCSK) {
	edu := map[string]any{"user_id": userID}
	if p := parsed["master"]; p != nil {
		edu["master_key"] = json.RawMessage(p.canon)
	}
	if p := parsed["self_signing"]; p != nil {
		edu["self_signing_key"] = json.RawMessage(p.canon)
	}
	if len(edu) == 1 {
		return
	}
	dests, err := s.remoteServersSharing(ctx, userID)
	if err == nil && len(dests) > 0 {
		s.sendEDU(ctx, "m.signing_key_update", edu, dests)
	}
}

// sigFailure is one entry of /keys/signatures/upload "failures".
func sigFailure(code spec.Errcode, msg string) map[string]any {
	return map[string]any{"errcode": code, "error": msg}
}

// UploadSignatures stores cross-signing signatures made by userID
// (POST /keys/signatures/upload): its self-signing key on its devices, its
// devices on its master key, its user-signing key on other users' master
// keys. Each failing key is reported, the others are stored.
func (s *Service) UploadSignatures(ctx context.Context, userID string, body map[string]map[string]json.RawMessage) (map[string]map[string]any, error) {
	failures := map[string]map[string]any{}
	fail := func(u, k string, f map[string]any) {
		if failures[u] == nil {
			failures[u] = map[string]any{}
		}
		failures[u][k] = f
	}
	mine, err := s.st.CrossSigningKeys(ctx, userID)
	if err != nil {
		return nil, err
	}
	changed := map[string]bool{}
	for target, keys := range body {
		for keyID, raw := range keys {
			sigs, f, err := s.checkSignature(ctx, userID, mine, target, keyID, raw)
			if err != nil {
				return nil, err
			}
			if f != nil {
				fail(target, keyID, f)
				continue
			}
			if err := s.st.AddSignatures(ctx, sigs); err != nil {
				return nil, err
			}
			changed[target] = true
		}
	}
	for u := range changed {
		if s.isLocal(u) {
			if err := s.recordChange(ctx, u, nil, false); err != nil {
				return nil, err
			}
		}
	}
	return failures, nil
}

// checkSignature validates one signed object and returns the signature rows
// to store, or a failure entry.
func (s *Service) checkSignature(ctx context.Context, userID string, mine map[string]models.CrossSigningKey,
	target, keyID string, raw []byte) ([]models.CrossSigningSignature, map[string]any, error) {
	obj, err := decodeObject(raw, "signed object")
	if err != nil {
		return nil, sigFailure(spec.ErrBadJSON, "not a canonical JSON object"), nil
	}
	stored, signerKey, f, err := s.signatureTarget(ctx, userID, mine, target, keyID)
	if err != nil || f != nil {
		return nil, f, err
	}
	if !samePayload(obj, stored) {
		return nil, sigFailure(spec.ErrInvalidParam, "signed object does not match the stored key"), nil
	}
	all, err := signaturesOf(obj, "signed object")
	if err != nil {
		return nil, sigFailure(spec.ErrBadJSON, "signatures must be an object of strings"), nil
	}
	var out []models.CrossSigningSignature
	for signerKeyID, pub := range signerKey {
		sig, ok := all[userID][signerKeyID]
		if !ok {
			continue
		}
		if verify(raw, userID, signerKeyID, pub) != nil {
			return nil, sigFailure(spec.ErrInvalidSignature, "invalid signature"), nil
		}
		out = append(out, models.CrossSigningSignature{TargetUserID: target, TargetKeyID: keyID,
			SignerUserID: userID, SignerKeyID: signerKeyID, Signature: sig})
	}
	if len(out) == 0 {
		return nil, sigFailure(spec.ErrInvalidSignature, "no signature by an acceptable key"), nil
	}
	return out, nil, nil
}

// samePayload compares two key objects without signatures and unsigned.
func samePayload(obj map[string]any, storedJSON string) bool {
	tree, err := canonicaljson.Decode([]byte(storedJSON))
	st, _ := tree.(map[string]any)
	if err != nil || st == nil {
		return false
	}
	strip := func(m map[string]any) string {
		c := map[string]any{}
		for k, v := range m {
			if k != "signatures" && k != "unsigned" {
				c[k] = v
			}
		}
		b, _ := canonicaljson.Encode(c)
		return string(b)
	}
	return strip(obj) == strip(st)
}

// signatureTarget finds the stored key a signature is about and the keys
// allowed to sign it (key ID -> public key).
func (s *Service) signatureTarget(ctx context.Context, userID string, mine map[string]models.CrossSigningKey,
	target, keyID string) (string, map[string][]byte, map[string]any, error) {
	notFound := sigFailure(spec.ErrNotFound, "unknown key")
	if target != userID {
		usk, ok := mine["user_signing"]
		theirs, err := s.st.CrossSigningKeys(ctx, target)
		if err != nil {
			return "", nil, nil, err
		}
		if m, has := theirs["master"]; !has || m.PublicKey != keyID {
			return "", nil, notFound, nil
		}
		if !ok {
			return "", nil, sigFailure(spec.ErrMissingParam, "no user-signing key"), nil
		}
		pub, _ := ed25519Key(usk.PublicKey)
		return theirs["master"].KeyJSON, map[string][]byte{"ed25519:" + usk.PublicKey: pub}, nil, nil
	}
	if m, ok := mine["master"]; ok && m.PublicKey == keyID {
		devs, err := s.st.DeviceKeysOf(ctx, userID, nil)
		if err != nil {
			return "", nil, nil, err
		}
		signers := map[string][]byte{}
		for _, d := range devs {
			if pub := deviceEd25519(d); pub != nil {
				signers["ed25519:"+d.DeviceID] = pub
			}
		}
		return m.KeyJSON, signers, nil, nil
	}
	devs, err := s.st.DeviceKeysOf(ctx, userID, []string{keyID})
	if err != nil || len(devs) == 0 {
		return "", nil, notFound, err
	}
	ssk, ok := mine["self_signing"]
	if !ok {
		return "", nil, sigFailure(spec.ErrMissingParam, "no self-signing key"), nil
	}
	pub, _ := ed25519Key(ssk.PublicKey)
	return devs[0].KeyJSON, map[string][]byte{"ed25519:" + ssk.PublicKey: pub}, nil, nil
}

// deviceEd25519 extracts a stored device's ed25519 key.
func deviceEd25519(d models.DeviceKeys) []byte {
	var obj struct {
		Keys map[string]string `json:"keys"`
	}
	if json.Unmarshal([]byte(d.KeyJSON), &obj) != nil {
		return nil
	}
	pub, ok := ed25519Key(obj.Keys["ed25519:"+d.DeviceID])
	if !ok {
		return nil
	}
	return pub
}
