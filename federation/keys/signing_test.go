package keys

import (
	"crypto/ed25519"
	"encoding/base64"
	"path/filepath"
	"testing"
)

func TestLoadOrCreateKeepsTheKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "signing.key")
	k1, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if k1.ID != k2.ID || !k1.Public().Equal(k2.Public()) {
		t.Fatalf("reloaded key differs: %s vs %s", k1.ID, k2.ID)
	}
	sig, _ := base64.RawStdEncoding.DecodeString(k2.Sign([]byte("x")))
	if !ed25519.Verify(k1.Public(), []byte("x"), sig) {
		t.Fatal("signature does not verify")
	}
}

func TestParseRejectsBadFiles(t *testing.T) {
	for _, text := range []string{"", "ed25519 a", "rsa a AAAA", "ed25519 a !!!", "ed25519 a AAAA"} {
		if _, err := parse(text); err == nil {
			t.Errorf("parse(%q) accepted", text)
		}
	}
}
