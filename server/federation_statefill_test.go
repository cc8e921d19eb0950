package main

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// TestFederationStateFill: hs2 is down while hs1's room moves on by more
// events than /get_missing_events may fetch (5 rounds of 100), including a
// topic change. hs1 catches up with only its latest event; hs2 cannot close
// the gap, so it asks /state_ids at the event's prev event, fetches the
// state it lacks with /event, and accepts the event on that state: the
// message arrives, the topic is hs1's, and the old messages stay a hole.
func TestFederationStateFill(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ca := newTestCA(t)
			fast := func(cfg *configs.Config) {
				cfg.Federation.RetryMin, cfg.Federation.RetryMax = 50*time.Millisecond, time.Second
				cfg.Federation.CatchUpAfter = 5
			}
			hs1 := newRestartable(t, ca, "127.0.0.2", db.URL, fast)
			hs2 := newRestartable(t, ca, "127.0.0.3", storetest.URLs(t)[0].URL, fast)
			alice := hs1.register(t, "alice", "password-alice")
			bob := hs2.register(t, "bob", "password-bob")
			room := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice, `{"preset":"public_chat"}`, 200)["room_id"].(string)
			roomPath := "/_matrix/client/v3/rooms/" + url.PathEscape(room)
			hs2.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+url.QueryEscape(hs1.ServerName), bob, `{}`, 200)

			hs2.stop()
			topic := hs1.call(t, "PUT", roomPath+"/state/m.room.topic", alice, `{"topic":"moved on"}`, 200)["event_id"].(string)
			// More new state than /event fetches one by one: hs2 asks /state.
			var custom string
			for i := range 60 {
				custom = hs1.call(t, "PUT", roomPath+fmt.Sprintf("/state/org.kabar.test/k%d", i), alice, `{"n":1}`, 200)["event_id"].(string)
			}
			var first string
			for i := range 560 {
				id := hs1.call(t, "PUT", roomPath+fmt.Sprintf("/send/m.room.message/m%d", i), alice, `{"msgtype":"m.text","body":"gap"}`, 200)["event_id"].(string)
				if i == 0 {
					first = id
				}
			}
			last := hs1.call(t, "PUT", roomPath+"/send/m.room.message/last", alice, `{"msgtype":"m.text","body":"latest"}`, 200)["event_id"].(string)
			hs2.start()
			hs2.call(t, "PUT", roomPath+"/send/m.room.message/b1", bob, `{"msgtype":"m.text","body":"back"}`, 200)
			waitEvent(t, hs2.testServer, last)
			cur, err := hs2.srv.store.CurrentStateRow(context.Background(), room, "m.room.topic", "")
			if err != nil || cur.EventID != topic {
				t.Errorf("hs2's topic is %q (%v), want %s", cur.EventID, err, topic)
			}
			if cur, _ := hs2.srv.store.CurrentStateRow(context.Background(), room, "org.kabar.test", "k59"); cur.EventID != custom {
				t.Errorf("hs2's org.kabar.test/k59 is %q, want %s", cur.EventID, custom)
			}
			if row, err := hs2.srv.store.EventByID(context.Background(), first); err == nil && row.StreamPos > 0 {
				t.Errorf("the gap was filled by get_missing_events: the state fetch was not exercised")
			}
			// The room goes on normally on both sides.
			next := hs1.call(t, "PUT", roomPath+"/send/m.room.message/after", alice, `{"msgtype":"m.text","body":"after"}`, 200)["event_id"].(string)
			waitEvent(t, hs2.testServer, next)
		})
	}
}
