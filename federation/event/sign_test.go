package event

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kabarchat/kabar/federation/canonicaljson"
)

// testKey is the appendix "Cryptographic Test Vectors" signing key.
func testKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	seed, err := base64.RawStdEncoding.DecodeString("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1")
	if err != nil {
		t.Fatal(err)
	}
	return ed25519.NewKeyFromSeed(seed)
}

func readCanonical(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := canonicaljson.Canonicalize(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// TestAppendixVectors checks every "JSON Signing" and "Event Signing"
// vector of appendices "Cryptographic Test Vectors" (testdata/appendix).
func TestAppendixVectors(t *testing.T) {
	key := testKey(t)
	pub := key.Public().(ed25519.PublicKey)
	v1 := LookupRoomVersion("1")
	cases := []struct {
		name  string
		event bool
	}{
		{"json_empty", false}, {"json_data", false},
		{"event_minimal", true}, {"event_redactable", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := readCanonical(t, filepath.Join("testdata/appendix", tc.name+".in.json"))
			want := readCanonical(t, filepath.Join("testdata/appendix", tc.name+".want.json"))
			var got []byte
			var err error
			if tc.event {
				got, err = HashAndSignJSON(v1, in, "domain", "ed25519:1", key)
			} else {
				got, err = SignJSON(in, "domain", "ed25519:1", key)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
			if tc.event {
				// The event signature covers the redacted event.
				redacted, err := RedactJSON(v1, got)
				if err != nil {
					t.Fatal(err)
				}
				got = redacted
			}
			if err := VerifyJSON(got, "domain", "ed25519:1", pub); err != nil {
				t.Errorf("VerifyJSON: %v", err)
			}
		})
	}
}

func TestVerifyJSONFailures(t *testing.T) {
	key := testKey(t)
	pub := key.Public().(ed25519.PublicKey)
	signed, err := SignJSON([]byte(`{"a":1,"unsigned":{"x":1}}`), "domain", "ed25519:1", key)
	if err != nil {
		t.Fatal(err)
	}
	// unsigned is not covered; changing it keeps the signature valid.
	changedUnsigned := bytes.Replace(signed, []byte(`"x":1`), []byte(`"x":2`), 1)
	if err := VerifyJSON(changedUnsigned, "domain", "ed25519:1", pub); err != nil {
		t.Errorf("unsigned change broke the signature: %v", err)
	}
	otherPub, _, _ := ed25519.GenerateKey(nil)
	cases := []struct {
		name, server, keyID string
		data                []byte
		pub                 ed25519.PublicKey
	}{
		{"tampered", "domain", "ed25519:1", bytes.Replace(signed, []byte(`"a":1`), []byte(`"a":2`), 1), pub},
		{"wrong key", "domain", "ed25519:1", signed, otherPub},
		{"missing server", "other", "ed25519:1", signed, pub},
		{"missing key id", "domain", "ed25519:2", signed, pub},
		{"bad base64", "domain", "ed25519:1", []byte(`{"signatures":{"domain":{"ed25519:1":"!!"}}}`), pub},
	}
	for _, tc := range cases {
		if err := VerifyJSON(tc.data, tc.server, tc.keyID, tc.pub); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: got %v, want ErrSignature", tc.name, err)
		}
	}
}
