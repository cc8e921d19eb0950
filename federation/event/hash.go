package event

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/kabarchat/kabar/models/spec"
)

// Event types whose content survives redaction or that change signing rules.
const (
	typeCreate            = "m.room.create"
	typeMember            = "m.room.member"
	typeJoinRules         = "m.room.join_rules"
	typePowerLevels       = "m.room.power_levels"
	typeAliases           = "m.room.aliases"
	typeHistoryVisibility = "m.room.history_visibility"
	typeRedaction         = "m.room.redaction"
)

// contentHash is the sha256 of the canonical event without unsigned,
// signatures and hashes (server-server-api "Calculating the content hash").
func contentHash(obj map[string]any) ([32]byte, error) {
	stripped := make(map[string]any, len(obj))
	for k, v := range obj {
		switch k {
		case "unsigned", "signatures", "hashes":
		default:
			stripped[k] = v
		}
	}
	b, err := encode(stripped)
	if err != nil {
		return [32]byte{}, fmt.Errorf("content hash: %w", err)
	}
	return sha256.Sum256(b), nil
}

// signedPayload is the canonical JSON that event signatures cover: the
// redacted event without signatures and unsigned (server-server-api
// "Adding hashes and signatures to outgoing events"). The reference hash is
// its sha256 (server-server-api "Calculating the reference hash").
func signedPayload(rv *RoomVersion, obj map[string]any) ([]byte, error) {
	redacted := redactObject(rv, obj)
	delete(redacted, "signatures")
	delete(redacted, "unsigned")
	b, err := encode(redacted)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return b, nil
}

func referenceHash(rv *RoomVersion, obj map[string]any) ([32]byte, error) {
	b, err := signedPayload(rv, obj)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(b), nil
}

// computeEventID returns the event ID the room version defines: the
// event_id field in format 1 (rooms/fragments/v1-event-ids), '$' + unpadded
// standard base64 of the reference hash in format 2 (rooms/v3), and URL-safe
// unpadded base64 in format 3 (rooms/fragments/v4-event-ids).
func computeEventID(rv *RoomVersion, obj map[string]any) (string, error) {
	if rv.EventFormat == 1 {
		id, ok := obj["event_id"].(string)
		if !ok {
			return "", fmt.Errorf("%w: missing event_id", ErrMalformed)
		}
		if err := checkSize("event_id", id); err != nil {
			return "", err
		}
		if _, err := spec.ParseEventID(id); err != nil || !strings.Contains(id, ":") {
			return "", fmt.Errorf("%w: event_id %q is not $opaque:domain", ErrMalformed, id)
		}
		return id, nil
	}
	h, err := referenceHash(rv, obj)
	if err != nil {
		return "", err
	}
	if rv.EventFormat == 2 {
		return "$" + base64.RawStdEncoding.EncodeToString(h[:]), nil
	}
	return "$" + base64.RawURLEncoding.EncodeToString(h[:]), nil
}

// ReferenceHash is the sha256 reference hash of the event.
func (e *Event) ReferenceHash() ([32]byte, error) { return referenceHash(e.rv, e.obj) }

// ContentHashValid reports whether hashes.sha256 matches the event. A
// mismatch after valid signatures means the event must be stored redacted
// (server-server-api "Validating hashes and signatures on received events").
func (e *Event) ContentHashValid() bool {
	want, ok := e.Hashes()["sha256"]
	if !ok {
		return false
	}
	got, err := contentHash(e.obj)
	if err != nil {
		return false
	}
	dec, err := decodeBase64(want)
	return err == nil && string(dec) == string(got[:])
}

// decodeBase64 accepts unpadded or padded standard base64, and the URL-safe
// alphabet (appendices "Unpadded Base64": decoders SHOULD accept padding).
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawURLEncoding.DecodeString(s)
}

// EncodeBase64 is unpadded standard base64 (appendices "Unpadded Base64").
func EncodeBase64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }
