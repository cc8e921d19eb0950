package eventauth

import "encoding/json"

// checkPowerLevels is the m.room.power_levels rule (rooms/v1.md rule 10,
// rooms/v10.md rule 9, rooms/v12.md rule 10).
func (a *authContext) checkPowerLevels(senderLevel int64) error {
	newPL, err := ParsePowerLevels(a.rv, a.ev.Content())
	if err != nil {
		// Before v10 the spec only names "users"; an unparsable value
		// elsewhere cannot be compared, so it is refused in every version.
		return deny("%v", err)
	}
	if a.rv.RoomIDFromCreate {
		for _, c := range Creators(a.create) {
			if _, ok := newPL.Users[c]; ok {
				return deny("room creator %s cannot be given a power level", c)
			}
		}
	}
	oldEv, err := a.get(TypePowerLevels, "")
	if err != nil || oldEv == nil {
		return err
	}
	oldPL, _ := ParsePowerLevels(a.rv, oldEv.Content())
	oldSet, newSet := presentKeys(oldEv.Content()), presentKeys(a.ev.Content())
	for _, f := range []struct {
		key      string
		old, new int64
	}{
		{"users_default", oldPL.UsersDefault, newPL.UsersDefault},
		{"events_default", oldPL.EventsDefault, newPL.EventsDefault},
		{"state_default", oldPL.StateDefault, newPL.StateDefault},
		{"ban", oldPL.Ban, newPL.Ban}, {"redact", oldPL.Redact, newPL.Redact},
		{"kick", oldPL.Kick, newPL.Kick}, {"invite", oldPL.Invite, newPL.Invite},
	} {
		if oldSet[f.key] == newSet[f.key] && f.old == f.new {
			continue
		}
		if oldSet[f.key] && f.old > senderLevel || newSet[f.key] && f.new > senderLevel {
			return deny("changing %s is above the sender's power level", f.key)
		}
	}
	if err := checkLevelMap("events", oldPL.Events, newPL.Events, senderLevel); err != nil {
		return err
	}
	if a.rv.NotificationsPowerLevels {
		if err := checkLevelMap("notifications", oldPL.Notifications, newPL.Notifications, senderLevel); err != nil {
			return err
		}
	}
	return a.checkUserLevels(oldPL.Users, newPL.Users, senderLevel)
}

// checkLevelMap: entries changed or removed must have been at most the
// sender's level, entries added or changed must be at most the sender's level.
func checkLevelMap(name string, old, new map[string]int64, senderLevel int64) error {
	for k, ov := range old {
		if nv, ok := new[k]; (!ok || nv != ov) && ov > senderLevel {
			return deny("changing %s.%s is above the sender's power level", name, k)
		}
	}
	for k, nv := range new {
		if ov, ok := old[k]; (!ok || nv != ov) && nv > senderLevel {
			return deny("setting %s.%s is above the sender's power level", name, k)
		}
	}
	return nil
}

// checkUserLevels: others' entries changed or removed must have been below
// the sender's level; entries added or changed must be at most the sender's.
func (a *authContext) checkUserLevels(old, new map[string]int64, senderLevel int64) error {
	for u, ov := range old {
		if nv, ok := new[u]; (!ok || nv != ov) && u != a.ev.Sender() && ov >= senderLevel {
			return deny("cannot change the power level of %s", u)
		}
	}
	for u, nv := range new {
		if ov, ok := old[u]; (!ok || nv != ov) && nv > senderLevel {
			return deny("cannot raise %s above the sender's power level", u)
		}
	}
	return nil
}

// presentKeys reports which top-level keys a content object has: adding or
// removing a key is an alteration even when the default equals the value.
func presentKeys(content []byte) map[string]bool {
	var obj map[string]json.RawMessage
	_ = json.Unmarshal(content, &obj)
	out := make(map[string]bool, len(obj))
	for k := range obj {
		out[k] = true
	}
	return out
}
