// Package keys holds this server's ed25519 signing key: generated on first
// start, kept in the data directory, used to sign events and requests
// (server-server-api "Retrieving server keys", "Signing JSON").
package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SigningKey is one of our ed25519 keys. Its String never shows the seed.
type SigningKey struct {
	// ID is the key ID, "ed25519:" plus a version.
	ID      string
	private ed25519.PrivateKey
}

// Sign returns the unpadded base64 ed25519 signature of data.
func (k *SigningKey) Sign(data []byte) string {
	return base64.RawStdEncoding.EncodeToString(ed25519.Sign(k.private, data))
}

// Public returns the public half.
func (k *SigningKey) Public() ed25519.PublicKey { return k.private.Public().(ed25519.PublicKey) }

func (k *SigningKey) String() string { return "signing key " + k.ID }

// Generate makes a new key with a random version.
func Generate() (*SigningKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	var v [4]byte
	rand.Read(v[:])
	version := "a_" + base64.RawURLEncoding.EncodeToString(v[:])
	// Key versions are [a-zA-Z0-9_] (appendices "Signing key"): map URL-safe
	// base64's '-' too.
	version = strings.ReplaceAll(version, "-", "_")
	return &SigningKey{ID: "ed25519:" + version, private: priv}, nil
}

// LoadOrCreate reads the key file at path ("ed25519 <version> <base64 seed>",
// the format Synapse also uses), creating it with a new key if absent.
func LoadOrCreate(path string) (*SigningKey, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return create(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	return parse(string(data))
}

func parse(text string) (*SigningKey, error) {
	fields := strings.Fields(text)
	if len(fields) != 3 || fields[0] != "ed25519" {
		return nil, errors.New("signing key file: want \"ed25519 <version> <base64 seed>\"")
	}
	seed, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(fields[2], "="))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("signing key file: bad seed")
	}
	return &SigningKey{ID: "ed25519:" + fields[1], private: ed25519.NewKeyFromSeed(seed)}, nil
}

func create(path string) (*SigningKey, error) {
	k, err := Generate()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key directory: %w", err)
	}
	version := strings.TrimPrefix(k.ID, "ed25519:")
	line := fmt.Sprintf("ed25519 %s %s\n", version, base64.RawStdEncoding.EncodeToString(k.private.Seed()))
	// O_EXCL: never overwrite a key another process just wrote.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create signing key file: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(line); err != nil {
		return nil, fmt.Errorf("write signing key file: %w", err)
	}
	return k, f.Sync()
}

// PrivateKey returns the private key, for signing with federation/event's
// Builder and Sign, which take an ed25519.PrivateKey.
func (k *SigningKey) PrivateKey() ed25519.PrivateKey { return k.private }
