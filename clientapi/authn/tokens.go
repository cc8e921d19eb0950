package authn

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Token prefixes make a leaked secret recognisable (and greppable) by kind.
const (
	prefixAccess  = "kbr_at_"
	prefixRefresh = "kbr_rt_"
	prefixLogin   = "kbr_lt_"
)

// newSecret returns prefix + 32 random bytes, URL-safe base64.
func newSecret(prefix string) string {
	var b [32]byte
	rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// newDeviceID returns a random device ID of 10 upper-case letters, the shape
// clients are used to.
func newDeviceID() string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var b [10]byte
	rand.Read(b[:])
	var sb strings.Builder
	for _, c := range b {
		sb.WriteByte(letters[int(c)%len(letters)])
	}
	return sb.String()
}

// HashToken is the SHA-256 (hex) under which a token is stored. Tokens are
// 256-bit random values, so a fast hash is enough: the database never holds a
// usable secret.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
