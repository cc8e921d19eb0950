package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// lazyFilter is what a client such as Element asks for: ten timeline
// events per room, lazy-loaded members.
const lazyFilter = `{"room":{"timeline":{"limit":10},"state":{"lazy_load_members":true}}}`

// BenchmarkSyncManyRooms measures, on each database, (1) the initial sync
// of a user in 500 rooms with lazy-loaded members (issue 4: under 1 s) and
// (2) an incremental sync that carries one new message, for a user in 10
// rooms and one in 500 (issue 4: cost independent of the room count).
// Every room has a second member who sent two messages; rooms are created
// through the room service (HTTP setup would dominate the run).
func BenchmarkSyncManyRooms(b *testing.B) {
	for i, db := range storetest.URLs(b) {
		b.Run(db.Name, func(b *testing.B) {
			db := storetest.URLs(b)[i] // a fresh database for every run (-count)
			ts := startServer(b, db.URL, func(c *configs.Config) { benchOpenRegistration(c); c.Presence.Enabled = false })
			client := &http.Client{}
			small := registerUser(b, client, ts.URL, "small")
			big := registerUser(b, client, ts.URL, "big")
			peer := registerUser(b, client, ts.URL, "peer")
			setup := time.Now()
			makeRooms(b, ts, "@small:kabar.test", 10)
			makeRooms(b, ts, "@big:kabar.test", 500)
			b.ReportMetric(time.Since(setup).Seconds(), "s-setup")
			filter := "&filter=" + url.QueryEscape(lazyFilter)
			var initial, incSmall, incBig []time.Duration
			smallSince, bigSince := syncToken(b, client, ts.URL, small), ""
			for b.Loop() {
				t0 := time.Now()
				body := getBody(b, client, ts.URL+"/_matrix/client/v3/sync?timeout=0"+filter, big)
				initial = append(initial, time.Since(t0))
				if n := joinedCount(b, body); n != 500 {
					b.Fatalf("initial sync has %d joined rooms, want 500", n)
				}
				if bigSince == "" {
					bigSince = nextBatch(b, body)
				}
				var d time.Duration
				d, smallSince = incrementalSync(b, client, ts.URL, small, peer, smallSince, filter)
				incSmall = append(incSmall, d)
				d, bigSince = incrementalSync(b, client, ts.URL, big, peer, bigSince, filter)
				incBig = append(incBig, d)
			}
			b.ReportMetric(medianMS(initial), "initial-500-ms")
			b.ReportMetric(medianMS(incSmall), "incr-10-ms")
			b.ReportMetric(medianMS(incBig), "incr-500-ms")
		})
	}
}

// makeRooms creates n rooms owned by owner, each joined by @peer with two
// messages from the peer, four rooms at a time.
func makeRooms(b *testing.B, ts *testServer, owner string, n int) []string {
	ctx := context.Background()
	svc := ts.srv.rooms
	ids := make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			id, err := svc.CreateRoom(ctx, rooms.CreateRequest{Creator: spec.UserID(owner), Preset: "public_chat", Name: fmt.Sprint("room ", i),
				// v12 room IDs hash the create event: make each one differ.
				CreationContent: map[string]any{"bench_nonce": fmt.Sprint(owner, i)}})
			if err != nil {
				b.Error(err)
				return
			}
			peer := spec.UserID("@peer:kabar.test")
			if _, err := svc.Membership(ctx, id, peer, peer, "join", "", nil); err != nil {
				b.Error(err)
				return
			}
			for j := range 2 {
				p := rooms.Proto{Type: "m.room.message", Sender: string(peer), Content: map[string]any{"msgtype": "m.text", "body": fmt.Sprint("hello ", j)}}
				if _, err := svc.Send(ctx, id, p, rooms.Txn{}); err != nil {
					b.Error(err)
					return
				}
			}
			ids[i] = string(id)
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return ids
}

// incrementalSync has the peer send one message into one of the viewer's
// rooms, then times the viewer's incremental sync from since; it returns
// the time and the next since.
func incrementalSync(b *testing.B, client *http.Client, base, viewer, peer, since, filter string) (time.Duration, string) {
	room := firstJoinedRoom(b, getBody(b, client, base+"/_matrix/client/v3/joined_rooms", viewer))
	benchSendText(b, client, base, peer, room)
	t0 := time.Now()
	body := getBody(b, client, base+"/_matrix/client/v3/sync?timeout=0&since="+url.QueryEscape(since)+filter, viewer)
	d := time.Since(t0)
	if n := joinedCount(b, body); n != 1 {
		b.Fatalf("incremental sync has %d joined rooms, want the 1 with the message", n)
	}
	return d, nextBatch(b, body)
}

func nextBatch(b *testing.B, body []byte) string {
	var r struct {
		NextBatch string `json:"next_batch"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.NextBatch == "" {
		b.Fatalf("sync response without next_batch: %v", err)
	}
	return r.NextBatch
}

func benchSendText(b *testing.B, client *http.Client, base, token, roomID string) {
	path := "/_matrix/client/v3/rooms/" + url.PathEscape(roomID) + "/send/m.room.message/" + fmt.Sprint(time.Now().UnixNano())
	req, _ := http.NewRequest("PUT", base+path, strings.NewReader(`{"msgtype":"m.text","body":"new"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("send: %v %v", resp, err)
	}
	resp.Body.Close()
}

func joinedCount(b *testing.B, body []byte) int {
	var r struct {
		Rooms struct {
			Join map[string]json.RawMessage `json:"join"`
		} `json:"rooms"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		b.Fatalf("sync response: %v", err)
	}
	return len(r.Rooms.Join)
}

func firstJoinedRoom(b *testing.B, body []byte) string {
	var r struct {
		JoinedRooms []string `json:"joined_rooms"`
	}
	if err := json.Unmarshal(body, &r); err != nil || len(r.JoinedRooms) == 0 {
		b.Fatalf("joined_rooms: %v %s", err, body)
	}
	slices.Sort(r.JoinedRooms)
	return r.JoinedRooms[0]
}

func medianMS(d []time.Duration) float64 {
	slices.Sort(d)
	return float64(d[len(d)/2].Microseconds()) / 1000
}
