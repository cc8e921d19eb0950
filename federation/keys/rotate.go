package keys

import (
	"bufio"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// OldKeysPath is where Rotate keeps retired keys, next to the key file.
func OldKeysPath(keyPath string) string { return keyPath + ".old" }

// LoadOld reads the retired keys file: one "ed25519 <version> <base64
// public key> <expired_ts>" line per key (no seeds: a retired key never
// signs again). A missing file is no old keys. current is skipped, so an
// interrupted rotation never publishes a key as both current and old.
func LoadOld(path string, current *SigningKey) ([]OldKey, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read old signing keys: %w", err)
	}
	defer f.Close()
	var out []OldKey
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 4 || fields[0] != "ed25519" {
			return nil, fmt.Errorf("%s:%d: want \"ed25519 <version> <public key> <expired_ts>\"", path, n)
		}
		pub, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(fields[2], "="))
		ts, tsErr := strconv.ParseInt(fields[3], 10, 64)
		if err != nil || len(pub) != ed25519.PublicKeySize || tsErr != nil {
			return nil, fmt.Errorf("%s:%d: bad public key or expired_ts", path, n)
		}
		id := "ed25519:" + fields[1]
		if current != nil && id == current.ID {
			continue
		}
		out = append(out, OldKey{ID: id, Public: ed25519.PublicKey(pub), ExpiredTS: ts})
	}
	return out, sc.Err()
}

// Rotate retires the key at keyPath (appended to the old keys file with
// expired_ts = now, so remote servers still verify what it signed before)
// and puts a new key in its place. The old key is recorded first and the
// new one renamed into place last, so a crash in between leaves the
// current key working. It returns the retired and the new key IDs.
func Rotate(keyPath string, now time.Time) (string, string, error) {
	current, err := LoadOrCreate(keyPath)
	if err != nil {
		return "", "", err
	}
	version := strings.TrimPrefix(current.ID, "ed25519:")
	line := fmt.Sprintf("ed25519 %s %s %d\n", version, b64(current.Public()), now.UnixMilli())
	f, err := os.OpenFile(OldKeysPath(keyPath), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return "", "", fmt.Errorf("open old signing keys: %w", err)
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return "", "", fmt.Errorf("write old signing keys: %w", err)
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return "", "", fmt.Errorf("write old signing keys: %w", err)
	}
	tmp := filepath.Join(filepath.Dir(keyPath), "."+filepath.Base(keyPath)+".new")
	os.Remove(tmp) // a leftover of an interrupted rotation
	next, err := create(tmp)
	if err != nil {
		return "", "", err
	}
	if err := os.Rename(tmp, keyPath); err != nil {
		return "", "", fmt.Errorf("install new signing key: %w", err)
	}
	return current.ID, next.ID, nil
}
