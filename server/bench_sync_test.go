package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/kabarchat/kabar/configs"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/kabarchat/kabar/models/store/storetest"
)

// BenchmarkSyncWake measures wake latency: the time from the sender's 200 OK
// to each of N parked /sync long-polls returning with the event. The N
// long-polls belong to up to 50 members of one room (registration hashes
// passwords, so a thousand accounts would dominate the run); every member
// has N/50 devices polling.
func BenchmarkSyncWake(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprint("N=", n), func(b *testing.B) {
			db := storetest.URLs(b)[0]
			// Presence off: each poll's own "online" update would otherwise
			// return the polls before the message is sent; this measures
			// message wake-ups.
			ts := startServer(b, db.URL, func(c *configs.Config) { benchOpenRegistration(c); c.Presence.Enabled = false })
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2000, MaxConnsPerHost: 0}}
			users := min(n, 50)
			tokens := make([]string, users)
			for i := range tokens {
				tokens[i] = registerUser(b, client, ts.URL, fmt.Sprint("u", i))
			}
			ctx := context.Background()
			owner, _ := mautrix.NewClient(ts.URL, "@u0:kabar.test", tokens[0])
			room, err := owner.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
			if err != nil {
				b.Fatal(err)
			}
			for _, tok := range tokens[1:] {
				cli, _ := mautrix.NewClient(ts.URL, "", tok)
				if _, err := cli.JoinRoom(ctx, room.RoomID.String(), nil); err != nil {
					b.Fatal(err)
				}
			}
			var lat []time.Duration
			for b.Loop() {
				lat = append(lat, wakeRound(b, ts, client, tokens, n, room.RoomID.String())...)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// wakeRound parks n long-polls, sends one message and returns each poll's
// latency after the send's 200.
func wakeRound(b *testing.B, ts *testServer, client *http.Client, tokens []string, n int, roomID string) []time.Duration {
	var sinceTok string
	{
		body := getBody(b, client, ts.URL+"/_matrix/client/v3/sync?timeout=0&filter="+url.QueryEscape(`{"room":{"timeline":{"limit":1}}}`), tokens[0])
		var r struct {
			NextBatch string `json:"next_batch"`
		}
		json.Unmarshal(body, &r)
		sinceTok = r.NextBatch
	}
	done := make([]time.Time, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			getBody(b, client, ts.URL+"/_matrix/client/v3/sync?timeout=30000&since="+sinceTok, tokens[i%len(tokens)])
			done[i] = time.Now()
		})
	}
	// Waiting, not Parked: a subscribed request may still be building its
	// first (empty) response, and the send would race with that work.
	for ts.srv.sync.notifier.Waiting() < int64(n) {
		time.Sleep(time.Millisecond)
	}
	req, _ := http.NewRequest("PUT", ts.URL+"/_matrix/client/v3/rooms/"+url.PathEscape(roomID)+"/send/m.room.message/"+fmt.Sprint(time.Now().UnixNano()),
		strings.NewReader(`{"msgtype":"m.text","body":"hi"}`))
	req.Header.Set("Authorization", "Bearer "+tokens[0])
	resp, err := client.Do(req)
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("send: %v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	sent := time.Now()
	wg.Wait()
	out := make([]time.Duration, n)
	for i, d := range done {
		out[i] = max(d.Sub(sent), 0)
	}
	return out
}

func getBody(b *testing.B, client *http.Client, url, token string) []byte {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		b.Error(err)
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		b.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return body
}
