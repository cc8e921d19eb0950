package sync

import (
	"context"
)

// PutAccountData stores an account data entry at the next position of the
// account data stream and wakes the user's parked syncs once it is
// readable. Room tags (m.tag) and read markers (m.fully_read) come through
// here too.
func (s *Syncer) PutAccountData(ctx context.Context, userID, roomID, typ, content string) error {
	a := s.opts.Streams.AccountData
	res := a.Reserve(1)
	err := s.st.PutAccountData(ctx, userID, roomID, typ, content, res.First)
	res.Done() // a failed write leaves a harmless gap
	if err != nil {
		return err
	}
	// Wake only once every earlier reservation finished, or the woken sync
	// could not read this entry yet.
	if err := WaitFor(context.WithoutCancel(ctx), a, res.First); err != nil {
		return err
	}
	s.opts.Notifier.Wake(userID)
	return nil
}

// GetAccountData loads one entry's content.
func (s *Syncer) GetAccountData(ctx context.Context, userID, roomID, typ string) (string, error) {
	return s.st.GetAccountData(ctx, userID, roomID, typ)
}
