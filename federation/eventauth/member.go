package eventauth

// checkMember is the m.room.member rule (rooms/v1.md rule 5, rooms/v8.md
// rule 4, rooms/v12.md rule 5).
func (a *authContext) checkMember() error {
	sk := a.ev.StateKey()
	mc := parseMember(a.ev.Content())
	if sk == nil || mc.Membership == nil {
		return deny("member event needs a state key and a membership")
	}
	// The join_authorised_via_users_server signature is verified by the
	// caller with the other signatures (see package doc).
	target := *sk
	senderEv, err := a.get(TypeMember, a.ev.Sender())
	if err != nil {
		return err
	}
	targetEv, err := a.get(TypeMember, target)
	if err != nil {
		return err
	}
	joinRulesEv, err := a.get(TypeJoinRules, "")
	if err != nil {
		return err
	}
	m := members{
		sender: membershipOf(senderEv), target: membershipOf(targetEv),
		joinRule: joinRuleOf(joinRulesEv),
	}
	switch *mc.Membership {
	case membershipJoin:
		return a.checkJoin(target, mc, m)
	case membershipInvite:
		return a.checkInvite(target, mc, m)
	case membershipLeave:
		return a.checkLeave(target, m)
	case membershipBan:
		return a.checkBan(target, m)
	case membershipKnock:
		if a.rv.Knock {
			return a.checkKnock(target, m)
		}
	}
	return deny("unknown membership %q", *mc.Membership)
}

// members holds the current memberships and join rule a transition needs.
type members struct {
	sender, target, joinRule string
}

// checkJoin is rule 5.3 (v12 numbering).
func (a *authContext) checkJoin(target string, mc memberContent, m members) error {
	prev := a.ev.PrevEventIDs()
	if len(prev) == 1 && prev[0] == a.create.EventID() && a.isFirstCreator(target) {
		return nil
	}
	if a.ev.Sender() != target {
		return deny("cannot make another user join")
	}
	if m.sender == membershipBan {
		return deny("user is banned from the room")
	}
	switch {
	case m.joinRule == joinRuleInvite,
		m.joinRule == joinRuleKnock && a.rv.Knock:
		if m.sender == membershipInvite || m.sender == membershipJoin {
			return nil
		}
		return deny("room is invite-only")
	case m.joinRule == joinRuleRestricted && a.rv.Restricted,
		m.joinRule == joinRuleKnockRestrict && a.rv.KnockRestricted:
		return a.checkRestrictedJoin(mc, m)
	case m.joinRule == joinRulePublic:
		return nil
	}
	return deny("join rule %q does not allow joining", m.joinRule)
}

// isFirstCreator reports whether user is the creator the first join may
// come from: content.creator before v11, the create sender from v11.
func (a *authContext) isFirstCreator(user string) bool {
	if a.rv.CreatorInSender {
		return a.create.Sender() == user
	}
	c, ok := stringField(parseObject(a.create.Content()), "creator")
	return ok && c == user
}

// checkRestrictedJoin is rule 5.3.5: members and invitees may join, others
// need a joined resident who may invite to vouch for them.
func (a *authContext) checkRestrictedJoin(mc memberContent, m members) error {
	if m.sender == membershipJoin || m.sender == membershipInvite {
		return nil
	}
	if mc.JoinAuthorisedVia == nil {
		return deny("restricted room: join needs join_authorised_via_users_server")
	}
	via := *mc.JoinAuthorisedVia
	viaEv, err := a.get(TypeMember, via)
	if err != nil {
		return err
	}
	if membershipOf(viaEv) != membershipJoin {
		return deny("authorising user %s is not joined", via)
	}
	if a.pl.UserLevel(via) < a.pl.Invite {
		return deny("authorising user %s may not invite", via)
	}
	return nil
}

// checkInvite is rule 5.4.
func (a *authContext) checkInvite(target string, mc memberContent, m members) error {
	if mc.HasThirdPartyInvite {
		if m.target == membershipBan {
			return deny("invited user is banned")
		}
		return a.checkThirdPartyInvite(target, mc)
	}
	if m.sender != membershipJoin {
		return deny("inviter is not joined to the room")
	}
	if m.target == membershipJoin || m.target == membershipBan {
		return deny("invited user is already %s", pastTense(m.target))
	}
	if a.pl.UserLevel(a.ev.Sender()) < a.pl.Invite {
		return deny("inviter's power level is below the invite level")
	}
	return nil
}

// checkLeave is rule 5.5: leaving, rejecting, retracting a knock, kicking
// and unbanning.
func (a *authContext) checkLeave(target string, m members) error {
	if a.ev.Sender() == target {
		switch m.sender {
		case membershipInvite, membershipJoin:
			return nil
		case membershipKnock:
			if a.rv.Knock {
				return nil
			}
		}
		return deny("cannot leave a room you are not in")
	}
	if m.sender != membershipJoin {
		return deny("sender is not joined to the room")
	}
	senderLevel := a.pl.UserLevel(a.ev.Sender())
	if m.target == membershipBan && senderLevel < a.pl.Ban {
		return deny("unbanning needs the ban level")
	}
	if senderLevel >= a.pl.Kick && a.pl.UserLevel(target) < senderLevel {
		return nil
	}
	return deny("sender may not kick this user")
}

// checkBan is rule 5.6.
func (a *authContext) checkBan(target string, m members) error {
	if m.sender != membershipJoin {
		return deny("sender is not joined to the room")
	}
	senderLevel := a.pl.UserLevel(a.ev.Sender())
	if senderLevel >= a.pl.Ban && a.pl.UserLevel(target) < senderLevel {
		return nil
	}
	return deny("sender may not ban this user")
}

// checkKnock is rule 5.7 (v7+).
func (a *authContext) checkKnock(target string, m members) error {
	if !(m.joinRule == joinRuleKnock || m.joinRule == joinRuleKnockRestrict && a.rv.KnockRestricted) {
		return deny("room does not allow knocking")
	}
	if a.ev.Sender() != target {
		return deny("cannot knock on behalf of another user")
	}
	switch m.sender {
	case membershipBan, membershipInvite, membershipJoin:
		return deny("cannot knock while %s", pastTense(m.sender))
	}
	return nil
}

func pastTense(membership string) string {
	switch membership {
	case membershipJoin:
		return "joined"
	case membershipBan:
		return "banned"
	case membershipInvite:
		return "invited"
	}
	return membership
}
