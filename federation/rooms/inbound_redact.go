package rooms

import (
	"errors"

	"github.com/kabarchat/kabar/federation/eventauth"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// applyRedaction marks the target of an accepted remote redaction as
// redacted. The auth rules let any member send a redaction; whether it
// takes effect is decided here (room versions 3+, "Redactions" in the
// room version specs): the redacting user's server must be the target
// sender's server, or the redacting user must have the "redact" power level
// in the state before the redaction. A target we do not have yet is left
// alone.
func (in *inbound) applyRedaction(tx *store.Store, wr *store.RoomWrite) error {
	ev := in.ev
	if ev.Type() != "m.room.redaction" || ev.Redacts() == "" {
		return nil
	}
	target, err := tx.EventByID(in.ctx, ev.Redacts())
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if target.RoomID != in.w.room.RoomID || target.Rejected {
		return nil
	}
	if spec.UserID(target.Sender).Server() != spec.UserID(ev.Sender()).Server() {
		pl := eventauth.PowerLevelsFromState(in.before.Get(eventauth.TypeCreate, ""), in.before.Get(eventauth.TypePowerLevels, ""))
		if in.before.err != nil {
			return in.before.err
		}
		if pl.UserLevel(ev.Sender()) < pl.Redact {
			return nil
		}
	}
	wr.Redactions = map[string]string{target.EventID: ev.EventID()}
	return nil
}
