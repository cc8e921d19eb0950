package sync

import (
	"context"
	"errors"
	"fmt"

	"github.com/kabarchat/kabar/federation/rooms/streampos"
)

// Streams holds the positions of everything /sync delivers.
type Streams struct {
	// Events is the room service's global stream.
	Events *streampos.Allocator
	// AccountData and Receipts are durable side streams: their tables'
	// stream_pos columns, allocated here so concurrent writers never read
	// each other's uncommitted positions.
	AccountData *streampos.Allocator
	Receipts    *streampos.Allocator
	// Typing is an in-memory stream.
	Typing *Typing
	// Extensions are the sources of the to-device and device list streams.
	Extensions []ExtensionSource
}

// Current is the token of everything readable now.
func (s *Streams) Current() Token {
	var t Token
	t[StreamEvents] = s.Events.Current()
	t[StreamAccountData] = s.AccountData.Current()
	t[StreamReceipts] = s.Receipts.Current()
	if s.Typing != nil {
		t[StreamTyping] = s.Typing.Current()
	}
	for _, e := range s.Extensions {
		t[e.Stream()] = e.Current()
	}
	return t
}

// ErrTokenFromFuture means a since token is ahead of a durable stream: it
// was not issued by this database.
var ErrTokenFromFuture = errors.New("sync token is ahead of the server")

// Check validates a client's since token against now. Durable streams may
// not be ahead; in-memory streams (typing, presence) restart at zero with
// the process, so a position ahead of them is reset to zero, which replays
// their (small) current state.
func (s *Streams) Check(since, now Token) (Token, error) {
	for _, id := range []StreamID{StreamEvents, StreamAccountData, StreamReceipts, StreamToDevice, StreamDeviceLists} {
		if since[id] > now[id] {
			return since, fmt.Errorf("%w: %s position %d > %d", ErrTokenFromFuture, id, since[id], now[id])
		}
	}
	for _, id := range []StreamID{StreamTyping, StreamPresence} {
		if since[id] > now[id] {
			since[id] = 0
		}
	}
	return since, nil
}

// WaitFor blocks until a's readable position reaches pos (the commits
// before it finish) or ctx ends. It waits on the allocator's change
// channel, never polls.
func WaitFor(ctx context.Context, a *streampos.Allocator, pos int64) error {
	for {
		ch := a.Changed()
		if a.Current() >= pos {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
