package openid

import (
	"testing"
	"time"

	"github.com/kabarchat/kabar/models/spec"
)

func TestTokens(t *testing.T) {
	now := time.Unix(1000, 0)
	tokens := New(time.Minute, func() time.Time { return now })
	alice, err := spec.ParseUserID("@alice:example.org")
	if err != nil {
		t.Fatal(err)
	}
	a, ttl, err := tokens.Issue(alice)
	if err != nil || ttl != time.Minute || len(a) < 40 {
		t.Fatalf("issue: %q %v %v", a, ttl, err)
	}
	b, _, _ := tokens.Issue(alice)
	cases := []struct {
		name    string
		token   string
		advance time.Duration
		want    spec.UserID
		ok      bool
	}{
		{"fresh token", a, 0, alice, true},
		{"second token", b, 0, alice, true},
		{"unknown token", "nope", 0, "", false},
		{"empty token", "", 0, "", false},
		{"just before expiry", a, 59 * time.Second, alice, true},
		{"at expiry", a, time.Second, "", false},
	}
	for _, tc := range cases {
		now = now.Add(tc.advance)
		got, ok := tokens.User(tc.token)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %q %v, want %q %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	// Issuing after expiry drops the expired ones.
	tokens.Issue(alice)
	if len(tokens.order) != 1 || len(tokens.byHash) != 1 {
		t.Errorf("expired tokens kept: %d %d", len(tokens.order), len(tokens.byHash))
	}
}
