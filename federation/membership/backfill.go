package membership

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kabarchat/kabar/models/spec"
)

// Backfill bounds (server-server-api "Backfilling and retrieving missing
// events"): one request per room at a time, at most backfillLimit events
// per request, backfillTimeout for every server together, and a room
// whose servers had nothing new is not asked again for backfillRetry.
const (
	backfillLimit   = 100
	backfillTimeout = 10 * time.Second
	backfillRetry   = time.Minute
)

// backfills tracks running and fruitless backfills per room.
type backfills struct {
	mu        sync.Mutex
	running   map[spec.RoomID]chan struct{}
	fruitless map[spec.RoomID]fruitless
}

type fruitless struct {
	extremity string
	at        time.Time
}

// backfillResponse is the Transaction /backfill answers with.
type backfillResponse struct {
	PDUs []json.RawMessage `json:"pdus"`
}

// Backfill fetches the history before a room's earliest known event from
// servers in the room, for user's /messages, and stores it. It reports
// whether anything was stored (or another backfill of the room finished
// meanwhile), so the caller reads again; failures just store nothing.
func (s *Service) Backfill(ctx context.Context, roomID spec.RoomID, user spec.UserID) bool {
	b := &s.backfill
	b.mu.Lock()
	if wait, ok := b.running[roomID]; ok {
		b.mu.Unlock()
		select {
		case <-wait:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if b.running == nil {
		b.running, b.fruitless = map[spec.RoomID]chan struct{}{}, map[spec.RoomID]fruitless{}
	}
	done := make(chan struct{})
	b.running[roomID] = done
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.running, roomID)
		b.mu.Unlock()
		close(done)
	}()
	ctx, cancel := context.WithTimeout(ctx, backfillTimeout)
	defer cancel()
	return s.backfillOnce(ctx, roomID, user)
}

func (s *Service) backfillOnce(ctx context.Context, roomID spec.RoomID, user spec.UserID) bool {
	missing, err := s.opts.Rooms.BackwardExtremity(ctx, roomID)
	if err != nil || len(missing) == 0 {
		return false
	}
	slices.Sort(missing)
	key := strings.Join(missing, ",")
	b := &s.backfill
	b.mu.Lock()
	f, seen := b.fruitless[roomID]
	b.mu.Unlock()
	if seen && f.extremity == key && time.Since(f.at) < backfillRetry {
		return false
	}
	for _, server := range s.candidateServers(ctx, roomID, user, nil) {
		n, err := s.backfillFrom(ctx, server, roomID, missing)
		if err != nil {
			s.log.Info("backfill failed", "room", roomID, "server", server, "err", err)
			continue
		}
		if n > 0 {
			return true
		}
	}
	b.mu.Lock()
	b.fruitless[roomID] = fruitless{extremity: key, at: time.Now()}
	b.mu.Unlock()
	return false
}

// backfillFrom asks one server for the events before ids (GET
// /_matrix/federation/v1/backfill/{roomId}), checks them as any received
// PDU (signatures, content hash; the room service checks them against
// their auth events) and stores them.
func (s *Service) backfillFrom(ctx context.Context, server spec.ServerName, roomID spec.RoomID, ids []string) (int, error) {
	_, rv, err := s.opts.Rooms.Room(ctx, roomID)
	if err != nil {
		return 0, err
	}
	q := url.Values{"v": ids, "limit": {strconv.Itoa(backfillLimit)}}
	path := "/_matrix/federation/v1/backfill/" + url.PathEscape(string(roomID)) + "?" + q.Encode()
	var resp backfillResponse
	if err := s.opts.Client.Do(ctx, server, "GET", path, nil, &resp); err != nil {
		return 0, err
	}
	if len(resp.PDUs) > backfillLimit {
		resp.PDUs = resp.PDUs[:backfillLimit]
	}
	evs, err := VerifyPDUs(ctx, s.opts.Ring, rv, resp.PDUs)
	if err != nil {
		return 0, err
	}
	return s.opts.Rooms.StoreBackfill(ctx, roomID, evs)
}
