package keys

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRotate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signing.key")
	first, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1_700_000_000_000)
	oldID, newID, err := Rotate(path, now)
	if err != nil || oldID != first.ID || newID == first.ID {
		t.Fatalf("rotate: %s %s %v", oldID, newID, err)
	}
	second, err := LoadOrCreate(path)
	if err != nil || second.ID != newID {
		t.Fatalf("new key %v %v", second, err)
	}
	if _, _, err := Rotate(path, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	third, _ := LoadOrCreate(path)
	old, err := LoadOld(OldKeysPath(path), third)
	if err != nil || len(old) != 2 {
		t.Fatalf("old keys %v %v", old, err)
	}
	if old[0].ID != first.ID || !old[0].Public.Equal(first.Public()) || old[0].ExpiredTS != now.UnixMilli() {
		t.Errorf("first old key %+v", old[0])
	}
	if old[1].ID != second.ID || old[1].ExpiredTS != now.Add(time.Hour).UnixMilli() {
		t.Errorf("second old key %+v", old[1])
	}
	// The current key in the old file (a rotation cut short) is skipped.
	if old, _ := LoadOld(OldKeysPath(path), second); len(old) != 1 || old[0].ID != first.ID {
		t.Errorf("current key not skipped: %+v", old)
	}
	bad := []struct{ name, text string }{
		{"too few fields", "ed25519 a_x AAAA\n"},
		{"bad algorithm", "rsa a_x AAAA 1\n"},
		{"bad key", "ed25519 a_x !!!! 1\n"},
		{"bad ts", "ed25519 a_x " + b64(first.Public()) + " soon\n"},
	}
	for _, tc := range bad {
		p := filepath.Join(t.TempDir(), "old")
		os.WriteFile(p, []byte(tc.text), 0o600)
		if _, err := LoadOld(p, nil); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if old, err := LoadOld(filepath.Join(t.TempDir(), "absent"), nil); err != nil || old != nil {
		t.Errorf("missing file: %v %v", old, err)
	}
}
