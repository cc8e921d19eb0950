// Package eventauth implements the Matrix authorization rules for room events
// (rooms/v1.md .. rooms/v12.md, "Authorization rules") and the auth events
// selection algorithm (server-server-api, "Auth events selection").
//
// It is pure: it never fetches anything. Callers hand it the event and the
// state to check against (the event's auth events, the state before the
// event, or the current state: server-server-api, "Checks performed on receipt
// of a PDU"). Signature checks, including the one for
// join_authorised_via_users_server, and the rejection status of auth events
// are the caller's job because they need keys and storage.
package eventauth

import (
	"fmt"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models/spec"
)

// Event is the view of a PDU the rules need; *event.Event satisfies it.
type Event interface {
	EventID() string
	RoomID() string
	Type() string
	StateKey() *string
	Sender() string
	Content() []byte // canonical JSON of content
	PrevEventIDs() []string
	AuthEventIDs() []string
	Depth() int64
	OriginServerTS() int64
	Redacts() string
	Version() *event.RoomVersion
}

// AuthState looks up one state event by (type, state_key). It returns an
// untyped nil when there is no such event.
type AuthState interface {
	Get(eventType, stateKey string) Event
}

// StateKeyTuple is the key of a state entry.
type StateKeyTuple struct {
	EventType string
	StateKey  string
}

// Error is an authorization failure. Reason is human-readable and safe to
// show to clients.
type Error struct {
	Reason string
}

func (e *Error) Error() string { return "not allowed by auth rules: " + e.Reason }

// Matrix converts the failure to the 403 M_FORBIDDEN the client API sends.
func (e *Error) Matrix() *spec.Error { return spec.Forbidden("%s", e.Reason) }

func deny(format string, args ...any) error {
	return &Error{Reason: fmt.Sprintf(format, args...)}
}

// Event types that affect authorization.
const (
	TypeCreate            = "m.room.create"
	TypeMember            = "m.room.member"
	TypeJoinRules         = "m.room.join_rules"
	TypePowerLevels       = "m.room.power_levels"
	TypeThirdPartyInvite  = "m.room.third_party_invite"
	TypeAliases           = "m.room.aliases"
	TypeRedaction         = "m.room.redaction"
	membershipJoin        = "join"
	membershipInvite      = "invite"
	membershipLeave       = "leave"
	membershipBan         = "ban"
	membershipKnock       = "knock"
	joinRulePublic        = "public"
	joinRuleInvite        = "invite"
	joinRuleKnock         = "knock"
	joinRuleRestricted    = "restricted"
	joinRuleKnockRestrict = "knock_restricted"
)

// AuthEvents is an AuthState over a list of events, such as an event's
// auth_events.
type AuthEvents map[StateKeyTuple]Event

// NewAuthEvents indexes state events by (type, state_key); later entries win.
func NewAuthEvents(events ...Event) AuthEvents {
	m := make(AuthEvents, len(events))
	for _, ev := range events {
		if sk := ev.StateKey(); sk != nil {
			m[StateKeyTuple{ev.Type(), *sk}] = ev
		}
	}
	return m
}

// Get implements AuthState.
func (a AuthEvents) Get(eventType, stateKey string) Event {
	ev, ok := a[StateKeyTuple{eventType, stateKey}]
	if !ok {
		return nil
	}
	return ev
}
