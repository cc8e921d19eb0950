// Package openid issues and checks the OpenID tokens a user hands to a
// third party so it can learn who they are from their homeserver
// (client-server-api "OpenID", server-server-api "OpenID").
package openid

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"

	"github.com/kabarchat/kabar/models/spec"
)

// DefaultTTL is how long a token is valid (expires_in of the answer).
const DefaultTTL = time.Hour

// maxTokens bounds the tokens held: a user asking for tokens in a loop
// cannot grow memory without limit; the oldest are dropped first.
const maxTokens = 100_000

// Tokens holds the live tokens in memory. They are short-lived and only
// prove an identity once to a third party, so a restart that forgets
// them costs a client one more request (NOTSPEC: the spec does not say
// where tokens live).
type Tokens struct {
	ttl time.Duration
	now func() time.Time

	mu     sync.Mutex
	byHash map[[32]byte]entry
	order  [][32]byte // insertion order, for expiry and the bound
}

type entry struct {
	user    spec.UserID
	expires time.Time
}

// New builds a token store; ttl <= 0 means DefaultTTL, now nil means
// time.Now.
func New(ttl time.Duration, now func() time.Time) *Tokens {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if now == nil {
		now = time.Now
	}
	return &Tokens{ttl: ttl, now: now, byHash: map[[32]byte]entry{}}
}

// Issue makes a token for one user and returns it with its lifetime.
// Only a hash of the token is kept.
func (t *Tokens) Issue(user spec.UserID) (string, time.Duration, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", 0, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	h := sha256.Sum256([]byte(token))
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireLocked()
	for len(t.order) >= maxTokens {
		delete(t.byHash, t.order[0])
		t.order = t.order[1:]
	}
	t.byHash[h] = entry{user: user, expires: t.now().Add(t.ttl)}
	t.order = append(t.order, h)
	return token, t.ttl, nil
}

// User returns the token's owner; false when the token is unknown or
// expired.
func (t *Tokens) User(token string) (spec.UserID, bool) {
	h := sha256.Sum256([]byte(token))
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.byHash[h]
	if !ok || !t.now().Before(e.expires) {
		return "", false
	}
	return e.user, true
}

// expireLocked drops expired tokens from the front: all tokens have the
// same lifetime, so insertion order is expiry order.
func (t *Tokens) expireLocked() {
	now := t.now()
	for len(t.order) > 0 {
		e, ok := t.byHash[t.order[0]]
		if ok && now.Before(e.expires) {
			return
		}
		delete(t.byHash, t.order[0])
		t.order = t.order[1:]
	}
}
