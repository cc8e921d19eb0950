package eventauth

import (
	"encoding/json"
	"strings"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/models/spec"
)

// authContext is one check of one event against one state.
type authContext struct {
	ev     Event
	rv     *event.RoomVersion
	state  AuthState
	create Event
	pl     *PowerLevels
}

// Check reports whether ev is allowed by the authorization rules of its room
// version against authState (rooms/v1.md .. rooms/v12.md, "Authorization
// rules"). A failure is an *Error carrying the reason.
func Check(ev Event, authState AuthState) error {
	rv := ev.Version()
	if rv == nil {
		return deny("unknown room version")
	}
	if ev.Type() == TypeCreate {
		return checkCreate(ev, rv)
	}
	a := &authContext{ev: ev, rv: rv, state: authState}
	if err := a.loadCreate(); err != nil {
		return err
	}
	pl, err := a.get(TypePowerLevels, "")
	if err != nil {
		return err
	}
	a.pl = PowerLevelsFromState(a.create, pl)
	return a.checkNonCreate()
}

// checkNonCreate applies the rules after the create rule, in spec order.
func (a *authContext) checkNonCreate() error {
	// Rule "m.federate": a non-federating room only admits the creator's server.
	if f, ok := parseObject(a.create.Content())["m.federate"]; ok && string(f) == "false" &&
		serverOf(a.ev.Sender()) != serverOf(a.create.Sender()) {
		return deny("room does not federate with %s", serverOf(a.ev.Sender()))
	}
	if a.rv.SpecialCaseAliases && a.ev.Type() == TypeAliases {
		return a.checkAliases()
	}
	if a.ev.Type() == TypeMember {
		return a.checkMember()
	}
	senderMember, err := a.get(TypeMember, a.ev.Sender())
	if err != nil {
		return err
	}
	if membershipOf(senderMember) != membershipJoin {
		return deny("sender is not joined to the room")
	}
	senderLevel := a.pl.UserLevel(a.ev.Sender())
	if a.ev.Type() == TypeThirdPartyInvite {
		if senderLevel < a.pl.Invite {
			return deny("sender's power level is below the invite level")
		}
		return nil
	}
	sk := a.ev.StateKey()
	if need := a.pl.EventLevel(a.ev.Type(), sk != nil); need > senderLevel {
		return deny("sending %s needs power level %d", a.ev.Type(), need)
	}
	if sk != nil && strings.HasPrefix(*sk, "@") && *sk != a.ev.Sender() {
		return deny("state key %s is reserved for that user", *sk)
	}
	if a.ev.Type() == TypePowerLevels && sk != nil && *sk == "" {
		return a.checkPowerLevels(senderLevel)
	}
	// The redaction rule exists only while event IDs carry a server name
	// (EventFormat 1: v1, v2); from v3 it moved to "Handling redactions".
	if a.rv.EventFormat == 1 && a.ev.Type() == TypeRedaction {
		if senderLevel >= a.pl.Redact || serverOf(a.ev.Redacts()) == serverOf(a.ev.EventID()) {
			return nil
		}
		return deny("sender's power level is below the redact level")
	}
	return nil
}

// get looks up a state entry and refuses entries from another room
// (rooms/v1.md rule 2.5, rooms/v12.md rule 3.5).
func (a *authContext) get(eventType, stateKey string) (Event, error) {
	ev := a.state.Get(eventType, stateKey)
	if ev == nil {
		return nil, nil
	}
	if ev.RoomID() != a.ev.RoomID() {
		return nil, deny("auth event %s is from another room", ev.EventID())
	}
	return ev, nil
}

// loadCreate finds the create event. From v12 the room ID is the create
// event's ID with the '!' sigil and the create event has no room_id
// (rooms/v12.md rule 2).
func (a *authContext) loadCreate() error {
	create := a.state.Get(TypeCreate, "")
	if create == nil {
		return deny("no create event")
	}
	if a.rv.RoomIDFromCreate {
		id := create.EventID()
		if len(id) < 2 || a.ev.RoomID() != "!"+id[1:] {
			return deny("room ID does not match the create event")
		}
	} else if create.RoomID() != a.ev.RoomID() {
		return deny("create event is from another room")
	}
	a.create = create
	return nil
}

// checkCreate is rule 1 (rooms/v1.md, v11.md, v12.md).
func checkCreate(ev Event, rv *event.RoomVersion) error {
	if len(ev.PrevEventIDs()) > 0 {
		return deny("create event has previous events")
	}
	if rv.RoomIDFromCreate {
		// A room ID cannot cite the hash of the event holding it; the event
		// implementation may report the derived one.
		if id := ev.RoomID(); id != "" && id != "!"+strings.TrimPrefix(ev.EventID(), "$") {
			return deny("create event has a room_id")
		}
	} else if serverOf(ev.RoomID()) != serverOf(ev.Sender()) {
		return deny("room ID server does not match the sender's")
	}
	obj := parseObject(ev.Content())
	if raw, ok := obj["room_version"]; ok {
		v, isString := stringField(obj, "room_version")
		if !isString || event.LookupRoomVersion(v) == nil {
			return deny("unknown room_version %s", string(raw))
		}
	}
	if !rv.CreatorInSender {
		if _, ok := stringField(obj, "creator"); !ok {
			return deny("create event has no creator")
		}
	}
	if rv.RoomIDFromCreate {
		if raw, ok := obj["additional_creators"]; ok && !validUserList(raw) {
			return deny("additional_creators must be a list of user IDs")
		}
	}
	return nil
}

func validUserList(raw []byte) bool {
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		return false
	}
	for _, u := range list {
		if _, err := spec.ParseUserID(u); err != nil {
			return false
		}
	}
	return true
}

// checkAliases is the v1-v5 m.room.aliases rule (rooms/v1.md rule 4).
func (a *authContext) checkAliases() error {
	sk := a.ev.StateKey()
	if sk == nil {
		return deny("m.room.aliases needs a state key")
	}
	if *sk != serverOf(a.ev.Sender()) {
		return deny("m.room.aliases state key must be the sender's server")
	}
	return nil
}
