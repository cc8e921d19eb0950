package eventauth

// StateKeysNeeded returns the state entries an event's auth_events should
// cite (server-server-api, "Auth events selection"). The create event is
// included except where the room ID implies it (RoomIDFromCreate, v12).
func StateKeysNeeded(ev Event) []StateKeyTuple {
	if ev.Type() == TypeCreate {
		return nil
	}
	rv := ev.Version()
	var keys []StateKeyTuple
	add := func(t, sk string) {
		k := StateKeyTuple{t, sk}
		for _, have := range keys {
			if have == k {
				return
			}
		}
		keys = append(keys, k)
	}
	if rv == nil || !rv.RoomIDFromCreate {
		add(TypeCreate, "")
	}
	add(TypePowerLevels, "")
	add(TypeMember, ev.Sender())
	if ev.Type() != TypeMember || ev.StateKey() == nil {
		return keys
	}
	add(TypeMember, *ev.StateKey())
	mc := parseMember(ev.Content())
	if mc.Membership == nil {
		return keys
	}
	switch *mc.Membership {
	case membershipJoin, membershipInvite, membershipKnock:
		add(TypeJoinRules, "")
	}
	if *mc.Membership == membershipInvite {
		if token, ok := thirdPartyToken(mc); ok {
			add(TypeThirdPartyInvite, token)
		}
	}
	if *mc.Membership == membershipJoin && mc.JoinAuthorisedVia != nil && rv != nil && rv.Restricted {
		add(TypeMember, *mc.JoinAuthorisedVia)
	}
	return keys
}

// CheckAuthEvents applies the rules about an event's own auth_events list
// (rooms/v1.md rule 2, rooms/v12.md rule 3): no duplicate (type, state_key),
// only entries the selection algorithm allows, the create event present
// (absent in v12), and every entry from the same room. authEvents are the
// loaded events named by ev.AuthEventIDs(); the caller checks that none was
// rejected.
func CheckAuthEvents(ev Event, authEvents []Event) error {
	if ev.Type() == TypeCreate {
		if len(authEvents) > 0 {
			return deny("create event has auth events")
		}
		return nil
	}
	allowed := map[StateKeyTuple]bool{}
	for _, k := range StateKeysNeeded(ev) {
		allowed[k] = true
	}
	seen := map[StateKeyTuple]bool{}
	for _, ae := range authEvents {
		sk := ae.StateKey()
		if sk == nil {
			return deny("auth event %s is not a state event", ae.EventID())
		}
		k := StateKeyTuple{ae.Type(), *sk}
		if seen[k] {
			return deny("duplicate auth event for (%s, %s)", k.EventType, k.StateKey)
		}
		seen[k] = true
		if !allowed[k] {
			return deny("auth event (%s, %s) is not needed to authorise this event", k.EventType, k.StateKey)
		}
		if ae.RoomID() != ev.RoomID() {
			return deny("auth event %s is from another room", ae.EventID())
		}
	}
	if rv := ev.Version(); (rv == nil || !rv.RoomIDFromCreate) && !seen[StateKeyTuple{TypeCreate, ""}] {
		return deny("no create event among auth events")
	}
	return nil
}
