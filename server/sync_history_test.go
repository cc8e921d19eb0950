package main

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// pageAll pages through the room in one direction and returns the message
// event IDs in the order received, failing on a duplicate.
func pageAll(t *testing.T, cli *mautrix.Client, room id.RoomID, dir mautrix.Direction, limit int) []id.EventID {
	t.Helper()
	var out []id.EventID
	seen := map[id.EventID]bool{}
	from := ""
	for range 1000 {
		resp, err := cli.Messages(context.Background(), room, from, "", dir, nil, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range resp.Chunk {
			if seen[ev.ID] {
				t.Fatalf("event %s returned twice", ev.ID)
			}
			seen[ev.ID] = true
			if ev.Type == event.EventMessage {
				out = append(out, ev.ID)
			}
		}
		if resp.End == "" {
			return out
		}
		from = resp.End
	}
	t.Fatal("pagination did not end")
	return nil
}

// TestMessagesPagination: 1,000 messages paged backwards and forwards come
// back complete, in order, without duplicates; /context shows neighbours.
func TestMessagesPagination(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		ts.register(t, "alice", "correct horse")
		a := login(t, ts, "alice", "correct horse")
		room, err := a.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "history"})
		if err != nil {
			t.Fatal(err)
		}
		const n, workers = 1000, 10
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range n / workers {
					if _, err := a.SendText(ctx, room.RoomID, fmt.Sprint(w, "-", i)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		back := pageAll(t, a, room.RoomID, mautrix.DirectionBackward, 97)
		fwd := pageAll(t, a, room.RoomID, mautrix.DirectionForward, 89)
		if len(back) != n || len(fwd) != n {
			t.Fatalf("got %d backwards, %d forwards, want %d", len(back), len(fwd), n)
		}
		for i := range fwd {
			if fwd[i] != back[n-1-i] {
				t.Fatalf("forwards[%d] = %s, backwards reversed = %s", i, fwd[i], back[n-1-i])
			}
		}
		// Turning around mid-way: back two pages, then forwards from there
		// returns exactly the events of those pages, oldest first.
		p1, _ := a.Messages(ctx, room.RoomID, "", "", mautrix.DirectionBackward, nil, 10)
		p2, _ := a.Messages(ctx, room.RoomID, p1.End, "", mautrix.DirectionBackward, nil, 10)
		f, err := a.Messages(ctx, room.RoomID, p2.End, "", mautrix.DirectionForward, nil, 20)
		if err != nil || len(f.Chunk) != 20 || f.Chunk[0].ID != p2.Chunk[9].ID || f.Chunk[19].ID != p1.Chunk[0].ID {
			t.Fatalf("turn around: %d events, %v", len(f.Chunk), err)
		}

		mid := fwd[500]
		c, err := a.Context(ctx, room.RoomID, mid, nil, 10)
		if err != nil {
			t.Fatal(err)
		}
		if c.Event.ID != mid || len(c.EventsBefore) != 5 || len(c.EventsAfter) != 5 ||
			c.EventsBefore[0].ID != fwd[499] || c.EventsAfter[0].ID != fwd[501] || len(c.State) == 0 {
			t.Fatalf("context: %s, %d before, %d after", c.Event.ID, len(c.EventsBefore), len(c.EventsAfter))
		}
		// Paging on from /context's end continues right after its last event.
		more, err := a.Messages(ctx, room.RoomID, c.End, "", mautrix.DirectionForward, nil, 1)
		if err != nil || len(more.Chunk) != 1 || more.Chunk[0].ID != fwd[506] {
			t.Fatalf("after context: %+v %v", more, err)
		}
	})
}

// TestMessagesErrors is the bad-input table for /messages and /context.
func TestMessagesErrors(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		ts.register(t, "alice", "correct horse")
		a := login(t, ts, "alice", "correct horse")
		bob := ts.register(t, "bob", "correct horse")
		room, err := a.CreateRoom(ctx, &mautrix.ReqCreateRoom{})
		if err != nil {
			t.Fatal(err)
		}
		msgs := "/_matrix/client/v3/rooms/" + url.PathEscape(room.RoomID.String()) + "/messages"
		ctxURL := "/_matrix/client/v3/rooms/" + url.PathEscape(room.RoomID.String()) + "/context/"
		tok := a.AccessToken
		runErrCases(t, ts, []errCase{
			{"no dir", "GET", msgs, tok, "", 400, "M_MISSING_PARAM"},
			{"bad dir", "GET", msgs + "?dir=up", tok, "", 400, "M_INVALID_PARAM"},
			{"bad from", "GET", msgs + "?dir=b&from=xyz", tok, "", 400, "M_INVALID_PARAM"},
			{"future from", "GET", msgs + "?dir=b&from=s1_99999_0_0_0_0_0_0", tok, "", 400, "M_INVALID_PARAM"},
			{"bad to", "GET", msgs + "?dir=b&to=t1", tok, "", 400, "M_INVALID_PARAM"},
			{"bad limit", "GET", msgs + "?dir=b&limit=-1", tok, "", 400, "M_INVALID_PARAM"},
			{"bad filter", "GET", msgs + "?dir=b&filter=" + url.QueryEscape(`{"types":`), tok, "", 400, "M_BAD_JSON"},
			{"not a member", "GET", msgs + "?dir=b", bob, "", 403, "M_FORBIDDEN"},
			{"bad room id", "GET", "/_matrix/client/v3/rooms/nope/messages?dir=b", tok, "", 400, "M_INVALID_PARAM"},
			{"unknown event", "GET", ctxURL + url.PathEscape("$nope"), tok, "", 404, "M_NOT_FOUND"},
			{"context not a member", "GET", ctxURL + url.PathEscape("$nope"), bob, "", 403, "M_FORBIDDEN"},
		})
	})
}
