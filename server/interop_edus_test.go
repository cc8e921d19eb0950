package main

import (
	"net/url"
	"slices"
	"testing"
)

// interopEDUs checks typing, read receipts and device-key queries between
// alice@kabar and bob@remote in their shared room.
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
	t.Run("keys query", func(t *testing.T) {
		dev := deviceOf(t, hs, alice)
		key := uploadKeys(t, hs, alice, aliceID, dev)
		q := r.call(t, "POST", "/_matrix/client/v3/keys/query", bob, `{"device_keys":{"`+aliceID+`":[]}}`, 200)
		if got := dig(q, "device_keys", aliceID, dev, "keys", "ed25519:"+dev); got != key {
			t.Errorf("%s's query of alice's keys: %v", r.Name, q)
		}
	})
}
