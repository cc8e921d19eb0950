package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// elementXList is close to what Element X asks for: a window of the 20
// newest rooms with the state its room list shows, and the extensions.
const elementXList = `{"conn_id":"room-list","lists":{"all":{"ranges":[[0,19]],"timeline_limit":10,
"required_state":[["m.room.name",""],["m.room.avatar",""],["m.room.encryption",""],["m.room.create",""],["m.room.member","$LAZY"],["m.room.member","$ME"]]}},
"extensions":{"to_device":{"enabled":true},"e2ee":{"enabled":true},"account_data":{"enabled":true},"receipts":{"enabled":true},"typing":{"enabled":true}}}`

// BenchmarkSlidingSyncManyRooms compares, on each database in one run,
// for a user in 500 rooms (each with a second member who sent two
// messages): the incremental sliding sync that carries one new message
// against the classic incremental /sync for the same message (the limit:
// Kabar's /sync already costs what changed), alternating which goes first;
// and, once, the initial sliding sync (a 20-room window) against the
// initial classic /sync of all 500 rooms.
func BenchmarkSlidingSyncManyRooms(b *testing.B) {
	for i, db := range storetest.URLs(b) {
		b.Run(db.Name, func(b *testing.B) {
			db := storetest.URLs(b)[i]
			ts := startServer(b, db.URL, func(c *configs.Config) { benchOpenRegistration(c); c.Presence.Enabled = false })
			client := &http.Client{}
			big := registerUser(b, client, ts.URL, "big")
			peer := registerUser(b, client, ts.URL, "peer")
			makeRooms(b, ts, "@big:kabar.test", 500)
			filter := "&filter=" + url.QueryEscape(lazyFilter)

			t0 := time.Now()
			body := getBody(b, client, ts.URL+"/_matrix/client/v3/sync?timeout=0"+filter, big)
			classicInitial := time.Since(t0)
			since := nextBatch(b, body)
			t0 = time.Now()
			pos, n := slidingPost(b, client, ts.URL, big, "")
			slidingInitial := time.Since(t0)
			if n != 20 {
				b.Fatalf("initial sliding sync has %d rooms, want the 20-room window", n)
			}

			room := firstJoinedRoom(b, getBody(b, client, ts.URL+"/_matrix/client/v3/joined_rooms", big))
			var classic, sliding []time.Duration
			round := 0
			for b.Loop() {
				benchSendText(b, client, ts.URL, peer, room)
				timeClassic := func() {
					t0 := time.Now()
					body := getBody(b, client, ts.URL+"/_matrix/client/v3/sync?timeout=0&since="+url.QueryEscape(since)+filter, big)
					classic = append(classic, time.Since(t0))
					if n := joinedCount(b, body); n != 1 {
						b.Fatalf("classic incremental has %d rooms, want 1", n)
					}
					since = nextBatch(b, body)
				}
				timeSliding := func() {
					t0 := time.Now()
					var n int
					pos, n = slidingPost(b, client, ts.URL, big, pos)
					sliding = append(sliding, time.Since(t0))
					if n != 1 {
						b.Fatalf("incremental sliding sync has %d rooms, want 1", n)
					}
				}
				if round%2 == 0 {
					timeClassic()
					timeSliding()
				} else {
					timeSliding()
					timeClassic()
				}
				round++
			}
			// Reported after the loop: b.Loop's timer reset drops earlier metrics.
			b.ReportMetric(medianMS([]time.Duration{classicInitial}), "classic-initial-ms")
			b.ReportMetric(medianMS([]time.Duration{slidingInitial}), "sliding-initial-ms")
			b.ReportMetric(medianMS(classic), "classic-incr-ms")
			b.ReportMetric(medianMS(sliding), "sliding-incr-ms")
			b.ReportMetric(medianMS(sliding)/medianMS(classic), "sliding/classic")
		})
	}
}

// slidingPost sends elementXList from pos (timeout 0) and returns the next
// pos and how many rooms came down.
func slidingPost(b *testing.B, client *http.Client, base, token, pos string) (string, int) {
	q := "?timeout=0"
	if pos != "" {
		q += "&pos=" + url.QueryEscape(pos)
	}
	req, _ := http.NewRequest("POST", base+"/_matrix/client/unstable/org.matrix.simplified_msc3575/sync"+q, strings.NewReader(elementXList))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var r struct {
		Pos   string                     `json:"pos"`
		Rooms map[string]json.RawMessage `json:"rooms"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(data, &r) != nil {
		b.Fatalf("sliding sync: %d %s", resp.StatusCode, data)
	}
	return r.Pos, len(r.Rooms)
}
