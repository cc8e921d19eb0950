package e2ee

import (
	"context"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kabarchat/kabar/models"
)

// Kick is the membership watcher's doorbell. It implements the room
// service's Notifier (server fans the room notifications out to it): it only
// signals that events were committed, so the room writer never waits on
// the key server.
type Kick struct{ ch chan struct{} }

// NewKick returns a doorbell for Options.Kick.
func NewKick() *Kick { return &Kick{ch: make(chan struct{}, 1)} }

// Notify implements rooms.Notifier.
func (k *Kick) Notify(int64, []string) {
	select {
	case k.ch <- struct{}{}:
	default:
	}
}

// Run runs the membership watcher and the remote device-list resync worker
// until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.runResync(ctx) })
	g.Go(func() error { return s.watchMemberships(ctx) })
	return g.Wait()
}

// watchMemberships follows the event stream and records a device-list entry
// for every join to or departure from an encrypted room, so the members'
// clients start or stop tracking each other's devices
// (end_to_end_encryption.md "Tracking the device list for a user").
func (s *Service) watchMemberships(ctx context.Context) error {
	if s.opts.Events == nil || s.opts.Kick == nil {
		<-ctx.Done()
		return nil
	}
	last, err := s.st.LastMembershipEventPos(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil // shut down while starting
		}
		return err
	}
	if last == 0 {
		last = s.opts.Events.Current()
	}
	tick := time.NewTicker(30 * time.Second) // safety net for a missed kick
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.opts.Kick.ch:
		case <-tick.C:
		}
		next, err := s.scanMemberships(ctx, last, s.opts.Events.Current())
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Warn("membership watcher", "err", err)
			continue
		}
		last = next
	}
}

// scanMemberships records the encrypted-room membership events in
// (from, to] and returns the position reached.
func (s *Service) scanMemberships(ctx context.Context, from, to int64) (int64, error) {
	if to <= from {
		return from, nil
	}
	if err := s.handleJoins(ctx, from, to); err != nil {
		// Remote servers catch up through prev_id gaps and the resync
		// worker; the encrypted-room entries below must not wait on this.
		s.log.Warn("device lists of joins", "err", err)
	}
	evs, err := s.st.EncryptedMembershipEvents(ctx, from, to)
	if err != nil {
		return from, err
	}
	// Invites and knocks do not change who shares the room.
	evs = slices.DeleteFunc(evs, func(e models.DeviceListChange) bool {
		return e.Membership != "join" && e.Membership != "leave" && e.Membership != "ban"
	})
	if len(evs) == 0 {
		return to, nil
	}
	r := s.deviceLists.Reserve(len(evs))
	for i := range evs {
		evs[i].StreamPos = r.First + int64(i)
		if evs[i].Membership != "join" {
			evs[i].Membership = "leave"
		}
	}
	err = s.st.AddDeviceListChanges(ctx, evs)
	r.Done()
	if err != nil {
		return from, err
	}
	s.opts.Notifier.Wake(s.affected(ctx, evs)...)
	return to, nil
}

// affected lists who must re-sync: each mover and the room's members.
func (s *Service) affected(ctx context.Context, evs []models.DeviceListChange) []string {
	var users []string
	rooms := map[string]bool{}
	for _, e := range evs {
		users = append(users, e.UserID)
		if rooms[e.RoomID] {
			continue // once per room, not per event
		}
		rooms[e.RoomID] = true
		if members, err := s.st.MembersWith(ctx, e.RoomID, "join"); err == nil {
			users = append(users, members...)
		}
	}
	return uniq(users)
}
