package authn_test

import (
	"testing"

	"github.com/kabarchat/kabar/clientapi/authn"
)

// BenchmarkHashPassword measures the default argon2id cost: it bounds how
// many registrations and password logins per second a core can do.
func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := authn.HashPassword("correct horse battery staple", authn.DefaultArgon2); err != nil {
			b.Fatal(err)
		}
	}
}
