package appservice

import (
	"crypto/sha256"
	"crypto/subtle"

	"github.com/kabarchat/kabar/models/spec"
)

// Registry answers which application service owns a token, a user ID or a
// room alias. It is built once at start-up and never changes, so it needs
// no lock.
type Registry struct {
	regs    []*Registration
	byToken map[[32]byte]*Registration
}

// NewRegistry indexes the registrations (already validated by Load).
func NewRegistry(regs []*Registration) *Registry {
	r := &Registry{regs: regs, byToken: make(map[[32]byte]*Registration, len(regs))}
	for _, reg := range regs {
		r.byToken[sha256.Sum256([]byte(reg.ASToken))] = reg
	}
	return r
}

// All lists the registrations.
func (r *Registry) All() []*Registration {
	if r == nil {
		return nil
	}
	return r.regs
}

// ByToken is the service whose as_token this is, nil if none. The map is
// keyed by the token's hash and the token compared in constant time, so a
// lookup leaks nothing usable about the tokens through timing.
func (r *Registry) ByToken(token string) *Registration {
	if r == nil || len(r.regs) == 0 {
		return nil
	}
	reg := r.byToken[sha256.Sum256([]byte(token))]
	if reg == nil || subtle.ConstantTimeCompare([]byte(reg.ASToken), []byte(token)) != 1 {
		return nil
	}
	return reg
}

// ByID is the service with this id, nil if none.
func (r *Registry) ByID(id string) *Registration {
	for _, reg := range r.All() {
		if reg.ID == id {
			return reg
		}
	}
	return nil
}

// ExclusiveUser is the service holding user in an exclusive namespace, nil
// if none (application-service-api.md: an exclusive namespace keeps
// everyone else from creating entities in it).
func (r *Registry) ExclusiveUser(user spec.UserID) *Registration {
	for _, reg := range r.All() {
		if matchAny(reg.Namespaces.Users, string(user), true) || (user == reg.Sender) {
			return reg
		}
	}
	return nil
}

// ExclusiveAlias is the service holding alias in an exclusive namespace,
// nil if none.
func (r *Registry) ExclusiveAlias(alias spec.RoomAlias) *Registration {
	for _, reg := range r.All() {
		if matchAny(reg.Namespaces.Aliases, string(alias), true) {
			return reg
		}
	}
	return nil
}

// OwnsUser reports whether the service may act as user: its sender or a
// user in any of its user namespaces.
func (reg *Registration) OwnsUser(user spec.UserID) bool {
	return user == reg.Sender || matchAny(reg.Namespaces.Users, string(user), false)
}

// OwnsAlias reports whether alias is in any of the service's alias namespaces.
func (reg *Registration) OwnsAlias(alias spec.RoomAlias) bool {
	return matchAny(reg.Namespaces.Aliases, string(alias), false)
}

// matchAny reports whether s matches one of the namespaces (only the
// exclusive ones when exclusiveOnly).
func matchAny(nss []Namespace, s string, exclusiveOnly bool) bool {
	for _, ns := range nss {
		if (ns.Exclusive || !exclusiveOnly) && ns.re != nil && ns.re.MatchString(s) {
			return true
		}
	}
	return false
}
