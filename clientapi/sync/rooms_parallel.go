package sync

import (
	"context"
	stdsync "sync"

	"github.com/kabarchat/kabar/models/store"
)

// roomWorkers is how many rooms an initial (or full-state) sync builds at
// once. Each room costs a handful of short queries; on Postgres they are
// round trips, and one after another a user in 500 rooms waited about a
// second (docs/PERFORMANCE.md, BenchmarkSyncManyRooms). A few at a time
// overlap the waits without taking the whole connection pool.
const roomWorkers = 4

// minParallelRooms: below this a sequential build is as fast.
const minParallelRooms = 16

// roomsParallel builds the rooms of an initial sync with roomWorkers
// builders, each into a response of its own, and merges them in order, so
// the result is the one a sequential build gives. ok is false when the
// sync is not one to build this way.
func (b *builder) roomsParallel(ctx context.Context, memberships []store.RoomMembership) (ok bool, err error) {
	if !(b.initial || b.req.FullState) || len(memberships) < minParallelRooms {
		return false, nil
	}
	// What the room builders would load lazily is loaded once, before they
	// run: the copies below share it read-only.
	if err := b.preloadUnread(ctx); err != nil {
		return true, err
	}
	parts := make([]*Response, len(memberships))
	errs := make([]error, len(memberships))
	next := make(chan int)
	var wg stdsync.WaitGroup
	for range roomWorkers {
		wg.Go(func() {
			for i := range next {
				sub := *b
				sub.resp = &Response{}
				errs[i] = sub.room(ctx, memberships[i])
				parts[i] = sub.resp
			}
		})
	}
	for i := range memberships {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, part := range parts {
		if errs[i] != nil {
			return true, errs[i]
		}
		b.mergeRooms(part)
	}
	return true, nil
}

// mergeRooms adds one room builder's sections to the response.
func (b *builder) mergeRooms(part *Response) {
	if part.changed {
		b.resp.changed = true
	}
	if part.Rooms == nil {
		return
	}
	r := b.resp.rooms()
	r.Join = mergeMap(r.Join, part.Rooms.Join)
	r.Invite = mergeMap(r.Invite, part.Rooms.Invite)
	r.Leave = mergeMap(r.Leave, part.Rooms.Leave)
	r.Knock = mergeMap(r.Knock, part.Rooms.Knock)
}

func mergeMap[V any](dst, src map[string]V) map[string]V {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]V, len(src))
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}
