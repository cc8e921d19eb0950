package event

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"slices"
	"testing"
)

// testLookup knows only the appendix test key of "domain".
func testLookup(t testing.TB) KeyLookup {
	pub := testKey(t).Public().(ed25519.PublicKey)
	return func(server, keyID string, validAt int64) ed25519.PublicKey {
		if server == "domain" && keyID == "ed25519:1" {
			return pub
		}
		return nil
	}
}

func strPtr(s string) *string { return &s }

// buildRoom builds a create event and a message referencing it.
func buildRoom(t testing.TB, rv *RoomVersion) (create, msg *Event) {
	t.Helper()
	key := testKey(t)
	cb := Builder{
		Sender: "@a:domain", Type: "m.room.create", StateKey: strPtr(""),
		Content: map[string]any{"room_version": rv.ID, "creator": "@a:domain"},
		Depth:   1, OriginServerTS: 1000,
	}
	if !rv.RoomIDFromCreate {
		cb.RoomID = "!r:domain"
	}
	create, err := cb.Build(rv, "domain", "ed25519:1", key)
	if err != nil {
		t.Fatalf("v%s create: %v", rv.ID, err)
	}
	ref, err := create.ReferenceHash()
	if err != nil {
		t.Fatal(err)
	}
	mb := Builder{
		RoomID: create.RoomID(), Sender: "@a:domain", Type: "m.room.message",
		Content:    map[string]any{"body": "hello", "msgtype": "m.text"},
		PrevEvents: []string{create.EventID()}, AuthEvents: []string{create.EventID()},
		RefHashes: map[string][32]byte{create.EventID(): ref},
		Depth:     2, OriginServerTS: 2000, Unsigned: map[string]any{"age": 5},
	}
	msg, err = mb.Build(rv, "domain", "ed25519:1", key)
	if err != nil {
		t.Fatalf("v%s message: %v", rv.ID, err)
	}
	return create, msg
}

// TestRoundTrip builds, parses and verifies events in every room version.
func TestRoundTrip(t *testing.T) {
	lookup := testLookup(t)
	for _, id := range StableRoomVersions() {
		rv := LookupRoomVersion(id)
		t.Run("v"+id, func(t *testing.T) {
			create, msg := buildRoom(t, rv)
			for _, ev := range []*Event{create, msg} {
				parsed, err := Parse(rv, ev.JSON())
				if err != nil {
					t.Fatalf("Parse(built %s): %v", ev.Type(), err)
				}
				if parsed.EventID() != ev.EventID() || !bytes.Equal(parsed.JSON(), ev.JSON()) {
					t.Errorf("round trip changed the event: %s vs %s", parsed.JSON(), ev.JSON())
				}
				if err := parsed.VerifySignatures(lookup); err != nil {
					t.Errorf("VerifySignatures: %v", err)
				}
				if !parsed.ContentHashValid() {
					t.Errorf("content hash invalid")
				}
				checkEventID(t, rv, parsed)
			}
			checkAccessors(t, rv, create, msg)
			checkRedacted(t, msg, lookup)
		})
	}
}

func checkEventID(t *testing.T, rv *RoomVersion, ev *Event) {
	t.Helper()
	h, err := ev.ReferenceHash()
	if err != nil {
		t.Fatal(err)
	}
	switch rv.EventFormat {
	case 1:
		if !bytes.HasSuffix([]byte(ev.EventID()), []byte(":domain")) {
			t.Errorf("v1 event ID %q lacks the domain", ev.EventID())
		}
	case 2:
		if ev.EventID() != "$"+base64.RawStdEncoding.EncodeToString(h[:]) {
			t.Errorf("format 2 ID %q", ev.EventID())
		}
	case 3:
		if ev.EventID() != "$"+base64.RawURLEncoding.EncodeToString(h[:]) {
			t.Errorf("format 3 ID %q", ev.EventID())
		}
	}
}

func checkAccessors(t *testing.T, rv *RoomVersion, create, msg *Event) {
	t.Helper()
	if rv.RoomIDFromCreate {
		if create.RoomID() != "!"+create.EventID()[1:] || RoomIDFromCreate(create) != create.RoomID() {
			t.Errorf("v12 room ID %q from create %q", create.RoomID(), create.EventID())
		}
		if _, has := create.obj["room_id"]; has {
			t.Errorf("v12 create event carries room_id")
		}
	} else if create.RoomID() != "!r:domain" {
		t.Errorf("room ID %q", create.RoomID())
	}
	if msg.RoomID() != create.RoomID() || msg.Type() != "m.room.message" || msg.Sender() != "@a:domain" ||
		msg.Depth() != 2 || msg.OriginServerTS() != 2000 || msg.StateKey() != nil || msg.Version() != rv {
		t.Errorf("accessors: %+v", msg)
	}
	if sk := create.StateKey(); sk == nil || *sk != "" {
		t.Errorf("create state key %v", sk)
	}
	if !slices.Equal(msg.PrevEventIDs(), []string{create.EventID()}) || !slices.Equal(msg.AuthEventIDs(), []string{create.EventID()}) {
		t.Errorf("prev %v auth %v", msg.PrevEventIDs(), msg.AuthEventIDs())
	}
	if string(msg.Content()) != `{"body":"hello","msgtype":"m.text"}` || string(msg.Unsigned()) != `{"age":5}` {
		t.Errorf("content %s unsigned %s", msg.Content(), msg.Unsigned())
	}
	if msg.Signatures()["domain"]["ed25519:1"] == "" || msg.Hashes()["sha256"] == "" {
		t.Errorf("signatures %v hashes %v", msg.Signatures(), msg.Hashes())
	}
}

// checkRedacted: redaction keeps the event ID and the signatures (which
// cover the redacted form) but breaks the content hash.
func checkRedacted(t *testing.T, msg *Event, lookup KeyLookup) {
	t.Helper()
	red, err := msg.Redact()
	if err != nil {
		t.Fatal(err)
	}
	if red.EventID() != msg.EventID() || string(red.Content()) != "{}" || red.Unsigned() != nil {
		t.Errorf("redacted: %s", red.JSON())
	}
	if err := red.VerifySignatures(lookup); err != nil {
		t.Errorf("redacted signatures: %v", err)
	}
	if red.ContentHashValid() {
		t.Errorf("redacted content hash still valid")
	}
}

func TestVerifySignaturesFailures(t *testing.T) {
	rv := LookupRoomVersion("10")
	_, msg := buildRoom(t, rv)
	lookup := testLookup(t)
	none := func(string, string, int64) ed25519.PublicKey { return nil }
	if err := msg.VerifySignatures(none); !errors.Is(err, ErrSignature) || !errors.Is(err, ErrNoKnownKey) {
		t.Errorf("no known key: %v", err)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	wrong := func(string, string, int64) ed25519.PublicKey { return other }
	if err := msg.VerifySignatures(wrong); !errors.Is(err, ErrSignature) {
		t.Errorf("wrong key: %v", err)
	}
	// An extra signature from another server does not matter; a second
	// server's key co-signing works.
	_, otherKey, _ := ed25519.GenerateKey(nil)
	cosigned, err := msg.Sign("other.example", "ed25519:x", otherKey)
	if err != nil {
		t.Fatal(err)
	}
	if cosigned.EventID() != msg.EventID() || len(cosigned.Signatures()) != 2 {
		t.Errorf("co-signing changed the event: %s", cosigned.JSON())
	}
	if err := cosigned.VerifySignatures(lookup); err != nil {
		t.Errorf("cosigned: %v", err)
	}
	// Tampering with a covered field (depth) breaks the sender's signature.
	tampered := bytes.Replace(msg.JSON(), []byte(`"depth":2`), []byte(`"depth":3`), 1)
	ev, err := Parse(rv, tampered)
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.VerifySignatures(lookup); !errors.Is(err, ErrSignature) {
		t.Errorf("tampered depth: %v", err)
	}
	// Tampering with content keeps signatures but breaks the content hash.
	edited := bytes.Replace(msg.JSON(), []byte(`"hello"`), []byte(`"HELLO"`), 1)
	if ev, err = Parse(rv, edited); err != nil {
		t.Fatal(err)
	}
	if err := ev.VerifySignatures(lookup); err != nil || ev.ContentHashValid() {
		t.Errorf("edited content: sig %v, hash valid %v", err, ev.ContentHashValid())
	}
}
