package main

import (
	"net/url"
	"slices"
	"testing"
	"time"
)

// interopEDUs checks typing, read receipts, presence and device-key
// queries between alice@kabar and bob@remote in their shared room.
func interopEDUs(t *testing.T, hs *fedServer, r *remoteHS, room, alice, bob string) {
	aliceID, bobID := "@alice:"+hs.ServerName, "@bob:"+r.ServerName
	aliceSince := hs.call(t, "GET", "/_matrix/client/v3/sync", alice, "", 200)["next_batch"].(string)
	bobSince := r.call(t, "GET", "/_matrix/client/v3/sync", bob, "", 200)["next_batch"].(string)
	typing := func(res map[string]any, user string) bool {
		evs := roomEphemeral(res, room, "m.typing")
		if len(evs) == 0 {
			return false
		}
		ids, _ := dig(evs[0], "content", "user_ids").([]any)
		return slices.Contains(ids, any(user))
	}
	t.Run("typing to kabar", func(t *testing.T) {
		r.call(t, "PUT", roomPath(room)+"/typing/"+url.PathEscape(bobID), bob, `{"typing":true,"timeout":20000}`, 200)
		syncUntil(t, hs, alice, aliceSince, func(res map[string]any) bool { return typing(res, bobID) })
	})
	t.Run("typing to "+r.Name, func(t *testing.T) {
		hs.call(t, "PUT", roomPath(room)+"/typing/"+url.PathEscape(aliceID), alice, `{"typing":true,"timeout":20000}`, 200)
		r.syncUntil(t, bob, bobSince, "alice typing", func(res map[string]any) bool { return typing(res, aliceID) })
	})
	t.Run("receipt to kabar", func(t *testing.T) {
		msg := hs.call(t, "PUT", roomPath(room)+"/send/m.room.message/r1", alice,
			`{"msgtype":"m.text","body":"read me"}`, 200)["event_id"].(string)
		r.waitEvent(t, bob, room, msg)
		r.call(t, "POST", roomPath(room)+"/receipt/m.read/"+url.PathEscape(msg), bob, `{}`, 200)
		syncUntil(t, hs, alice, aliceSince, func(res map[string]any) bool {
			for _, e := range roomEphemeral(res, room, "m.receipt") {
				if dig(e, "content", msg, "m.read", bobID) != nil {
					return true
				}
			}
			return false
		})
	})
	t.Run("receipt to "+r.Name, func(t *testing.T) {
		msg := r.call(t, "PUT", roomPath(room)+"/send/m.room.message/r2", bob,
			`{"msgtype":"m.text","body":"read me too"}`, 200)["event_id"].(string)
		waitEvent(t, hs.testServer, msg)
		hs.call(t, "POST", roomPath(room)+"/receipt/m.read/"+url.PathEscape(msg), alice, `{}`, 200)
		r.syncUntil(t, bob, bobSince, "alice's receipt", func(res map[string]any) bool {
			for _, e := range roomEphemeral(res, room, "m.receipt") {
				if dig(e, "content", msg, "m.read", aliceID) != nil {
					return true
				}
			}
			return false
		})
	})
	t.Run("presence", func(t *testing.T) { interopPresence(t, hs, r, alice, bob) })
	t.Run("keys query", func(t *testing.T) {
		dev := deviceOf(t, hs, alice)
		key := uploadKeys(t, hs, alice, aliceID, dev)
		q := r.call(t, "POST", "/_matrix/client/v3/keys/query", bob, `{"device_keys":{"`+aliceID+`":[]}}`, 200)
		if got := dig(q, "device_keys", aliceID, dev, "keys", "ed25519:"+dev); got != key {
			t.Errorf("%s's query of alice's keys: %v", r.Name, q)
		}
	})
}

// interopPresence: presence set on either side shows in the /sync of the
// other side's user, who shares a room with the setter (client-server-api
// "Presence", server-server-api m.presence EDUs). /sync rather than GET
// /presence/{userId}/status: Dendrite v0.13.8 answers the latter for remote
// users with "unavailable" whatever it received (its user API refuses to
// list a remote user's devices).
func interopPresence(t *testing.T, hs *fedServer, r *remoteHS, alice, bob string) {
	aliceID, bobID := "@alice:"+hs.ServerName, "@bob:"+r.ServerName
	for _, c := range []struct {
		name           string
		setter, getter interopSide
		user, status   string
	}{
		{"kabar to " + r.Name, interopSide{token: alice, c: hs}, interopSide{token: bob, c: r}, aliceID, "at kabar"},
		{r.Name + " to kabar", interopSide{token: bob, c: r}, interopSide{token: alice, c: hs}, bobID, "at " + r.Name},
	} {
		t.Run(c.name, func(t *testing.T) {
			since := c.getter.c.call(t, "GET", "/_matrix/client/v3/sync?timeout=0", c.getter.token, "", 200)["next_batch"].(string)
			c.setter.c.call(t, "PUT", "/_matrix/client/v3/presence/"+url.PathEscape(c.user)+"/status", c.setter.token,
				`{"presence":"online","status_msg":"`+c.status+`"}`, 200)
			deadline := time.Now().Add(30 * time.Second)
			for time.Now().Before(deadline) {
				res := c.getter.c.call(t, "GET", "/_matrix/client/v3/sync?timeout=1000&since="+url.QueryEscape(since), c.getter.token, "", 200)
				evs, _ := dig(res, "presence", "events").([]any)
				for _, e := range evs {
					if dig(e, "sender") == c.user && dig(e, "content", "presence") == "online" &&
						dig(e, "content", "status_msg") == c.status {
						return
					}
				}
				since, _ = res["next_batch"].(string)
			}
			t.Fatalf("the presence of %s never reached the other server's /sync", c.user)
		})
	}
}
