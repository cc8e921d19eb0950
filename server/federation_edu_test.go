package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kabarchat/kabar/federation/fedclient"
	"github.com/kabarchat/kabar/models/spec"
)

// syncUntil long-polls /sync from since until ok accepts a response, and
// returns that response; it fails the test after 10 seconds.
func syncUntil(t *testing.T, ts *fedServer, token, since string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		path := "/_matrix/client/v3/sync?timeout=1000"
		if since != "" {
			path += "&since=" + url.QueryEscape(since)
		}
		res := ts.call(t, "GET", path, token, "", 200)
		if ok(res) {
			return res
		}
		since, _ = res["next_batch"].(string)
	}
	t.Fatalf("sync on %s: condition never met", ts.ServerName)
	return nil
}

// dig walks nested JSON objects by keys.
func dig(v any, path ...string) any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}

// roomEphemeral returns the m.<typ> ephemeral events of room in a sync.
func roomEphemeral(res map[string]any, room, typ string) []map[string]any {
	evs, _ := dig(res, "rooms", "join", room, "ephemeral", "events").([]any)
	var out []map[string]any
	for _, e := range evs {
		if m, _ := e.(map[string]any); m["type"] == typ {
			out = append(out, m)
		}
	}
	return out
}

// deviceOf returns the device ID of an access token.
func deviceOf(t *testing.T, ts apiCaller, token string) string {
	return ts.call(t, "GET", "/_matrix/client/v3/account/whoami", token, "", 200)["device_id"].(string)
}

// uploadKeys uploads self-signed device keys and one signed one-time key and
// returns the device's ed25519 key.
func uploadKeys(t *testing.T, ts apiCaller, token, user, device string) string {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(nil)
	dk := signedKey(t, map[string]any{"user_id": user, "device_id": device,
		"algorithms": []string{"m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"},
		"keys":       map[string]string{"ed25519:" + device: b64(pub), "curve25519:" + device: "Y3VydmU"},
	}, user, "ed25519:"+device, priv)
	// A signed_curve25519 key is a KeyObject signed by the device (spec:
	// client-server API, "One-time and fallback keys"); Synapse refuses it
	// unsigned.
	otk := signedKey(t, map[string]any{"key": "otk-" + device}, user, "ed25519:"+device, priv)
	body, _ := json.Marshal(map[string]any{"device_keys": dk,
		"one_time_keys": map[string]any{"signed_curve25519:" + device + "1": otk}})
	ts.call(t, "POST", "/_matrix/client/v3/keys/upload", token, string(body), 200)
	return b64(pub)
}

// TestFederationEDUs: typing, receipts, presence, remote key query and claim,
// to-device messages and device-list updates between alice@hs1 and
// bob@hs2 in an encrypted room; an unreachable server lands in failures.
func TestFederationEDUs(t *testing.T) {
	r := newSharedRoom(t, "10")
	esc := url.PathEscape(r.room)
	aliceID, bobID := "@alice:"+r.hs1.ServerName, "@bob:"+r.hs2.ServerName
	enc := r.hs1.call(t, "PUT", "/_matrix/client/v3/rooms/"+esc+"/state/m.room.encryption/", r.alice,
		`{"algorithm":"m.megolm.v1.aes-sha2"}`, 200)["event_id"].(string)
	waitEvent(t, r.hs2.testServer, enc)
	aliceSince := r.hs1.call(t, "GET", "/_matrix/client/v3/sync", r.alice, "", 200)["next_batch"].(string)
	bobSince := r.hs2.call(t, "GET", "/_matrix/client/v3/sync", r.bob, "", 200)["next_batch"].(string)

	t.Run("typing", func(t *testing.T) {
		r.hs2.call(t, "PUT", "/_matrix/client/v3/rooms/"+esc+"/typing/"+url.PathEscape(bobID), r.bob, `{"typing":true,"timeout":20000}`, 200)
		syncUntil(t, r.hs1, r.alice, aliceSince, func(res map[string]any) bool {
			evs := roomEphemeral(res, r.room, "m.typing")
			return len(evs) > 0 && slices.Contains(dig(evs[0], "content", "user_ids").([]any), any(bobID))
		})
	})
	t.Run("receipt", func(t *testing.T) {
		msg := r.send(t, r.hs1, r.alice, "read me", "edu-r1")
		waitEvent(t, r.hs2.testServer, msg)
		r.hs2.call(t, "POST", "/_matrix/client/v3/rooms/"+esc+"/receipt/m.read/"+url.PathEscape(msg), r.bob, `{}`, 200)
		syncUntil(t, r.hs1, r.alice, aliceSince, func(res map[string]any) bool {
			for _, e := range roomEphemeral(res, r.room, "m.receipt") {
				if dig(e, "content", msg, "m.read", bobID) != nil {
					return true
				}
			}
			return false
		})
	})

	t.Run("presence", func(t *testing.T) {
		// server-server-api "Presence": alice's change reaches hs2 as an
		// m.presence EDU and bob, who shares the room, sees it in /sync.
		r.hs1.call(t, "PUT", "/_matrix/client/v3/presence/"+url.PathEscape(aliceID)+"/status", r.alice,
			`{"presence":"unavailable","status_msg":"at lunch"}`, 200)
		syncUntil(t, r.hs2, r.bob, bobSince, func(res map[string]any) bool {
			evs, _ := dig(res, "presence", "events").([]any)
			for _, e := range evs {
				if dig(e, "sender") == aliceID && dig(e, "content", "presence") == "unavailable" &&
					dig(e, "content", "status_msg") == "at lunch" {
					return true
				}
			}
			return false
		})
		var got map[string]any
		if st := jsonDo(t, r.hs2.testServer, "GET", "/_matrix/client/v3/presence/"+url.PathEscape(aliceID)+"/status", r.bob, "", &got); st != 200 ||
			got["presence"] != "unavailable" {
			t.Fatalf("alice's presence on hs2: %d %v", st, got)
		}
	})

	aliceDev := deviceOf(t, r.hs1, r.alice)
	aliceKey := uploadKeys(t, r.hs1, r.alice, aliceID, aliceDev)
	t.Run("keys query and claim across servers", func(t *testing.T) {
		q := r.hs2.call(t, "POST", "/_matrix/client/v3/keys/query", r.bob, `{"device_keys":{"`+aliceID+`":[]}}`, 200)
		if got := dig(q, "device_keys", aliceID, aliceDev, "keys", "ed25519:"+aliceDev); got != aliceKey {
			t.Fatalf("query: %v", q)
		}
		claim := `{"one_time_keys":{"` + aliceID + `":{"` + aliceDev + `":"signed_curve25519"}}}`
		c := r.hs2.call(t, "POST", "/_matrix/client/v3/keys/claim", r.bob, claim, 200)
		if dig(c, "one_time_keys", aliceID, aliceDev, "signed_curve25519:"+aliceDev+"1") == nil {
			t.Fatalf("claim: %v", c)
		}
		// The only one-time key is gone and there is no fallback key.
		c = r.hs2.call(t, "POST", "/_matrix/client/v3/keys/claim", r.bob, claim, 200)
		if dig(c, "one_time_keys", aliceID) != nil {
			t.Fatalf("second claim: %v", c)
		}
	})
	t.Run("unreachable server in failures", func(t *testing.T) {
		const down = "127.0.0.9:1"
		q := r.hs2.call(t, "POST", "/_matrix/client/v3/keys/query", r.bob,
			`{"device_keys":{"@x:`+down+`":[],"`+aliceID+`":[]},"timeout":3000}`, 200)
		if dig(q, "failures", down) == nil || dig(q, "device_keys", aliceID, aliceDev) == nil {
			t.Fatalf("query with a server down: %v", q)
		}
		c := r.hs2.call(t, "POST", "/_matrix/client/v3/keys/claim", r.bob,
			`{"one_time_keys":{"@x:`+down+`":{"D":"signed_curve25519"}},"timeout":3000}`, 200)
		if dig(c, "failures", down) == nil {
			t.Fatalf("claim with a server down: %v", c)
		}
	})
	t.Run("to-device exactly once", func(t *testing.T) {
		body := `{"messages":{"` + aliceID + `":{"` + aliceDev + `":{"ciphertext":"hello"}}}}`
		for range 2 { // the repeated txnId is a no-op
			r.hs2.call(t, "PUT", "/_matrix/client/v3/sendToDevice/m.room.encrypted/td1", r.bob, body, 200)
		}
		toDevice := func(res map[string]any) []any { evs, _ := dig(res, "to_device", "events").([]any); return evs }
		res := syncUntil(t, r.hs1, r.alice, aliceSince, func(res map[string]any) bool { return len(toDevice(res)) > 0 })
		evs := toDevice(res)
		if len(evs) != 1 || dig(evs[0], "sender") != bobID || dig(evs[0], "content", "ciphertext") != "hello" {
			t.Fatalf("to-device: %v", evs)
		}
		// Nothing more arrives: the second PUT and the federation retry
		// were not delivered again.
		time.Sleep(300 * time.Millisecond)
		next := r.hs1.call(t, "GET", "/_matrix/client/v3/sync?timeout=500&since="+url.QueryEscape(res["next_batch"].(string)), r.alice, "", 200)
		if n := len(toDevice(next)); n != 0 {
			t.Fatalf("to-device delivered again: %v", toDevice(next))
		}
	})
	t.Run("new device reaches the other server", func(t *testing.T) {
		// alice's first key upload already reached bob; only what follows
		// is the new device.
		changedAlice := func(res map[string]any) bool {
			changed, _ := dig(res, "device_lists", "changed").([]any)
			return slices.Contains(changed, any(aliceID))
		}
		since := syncUntil(t, r.hs2, r.bob, bobSince, changedAlice)["next_batch"].(string)
		login := r.hs1.call(t, "POST", "/_matrix/client/v3/login", "",
			`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"alice"},"password":"password-alice"}`, 200)
		tok2, dev2 := login["access_token"].(string), login["device_id"].(string)
		key2 := uploadKeys(t, r.hs1, tok2, aliceID, dev2)
		syncUntil(t, r.hs2, r.bob, since, changedAlice)
		q := r.hs2.call(t, "POST", "/_matrix/client/v3/keys/query", r.bob, `{"device_keys":{"`+aliceID+`":[]}}`, 200)
		if dig(q, "device_keys", aliceID, dev2, "keys", "ed25519:"+dev2) != key2 {
			t.Fatalf("query after the new device: %v", q)
		}
	})
}

// TestFederationEDUInput sends hand-made EDUs from hs1 to hs2: bad ones are
// ignored without failing the transaction, a retried to-device message_id
// is delivered once, and a device-list gap makes hs2 resync from hs1.
func TestFederationEDUInput(t *testing.T) {
	r := newSharedRoom(t, "10")
	ctx := context.Background()
	aliceID, bobID := "@alice:"+r.hs1.ServerName, "@bob:"+r.hs2.ServerName
	bobDev := deviceOf(t, r.hs2, r.bob)
	bobSince := r.hs2.call(t, "GET", "/_matrix/client/v3/sync", r.bob, "", 200)["next_batch"].(string)
	n := 0
	send := func(edus ...string) {
		t.Helper()
		n++
		body := json.RawMessage(`{"origin":"` + r.hs1.ServerName + `","origin_server_ts":1,"pdus":[],"edus":[` + strings.Join(edus, ",") + `]}`)
		var resp map[string]any
		path := "/_matrix/federation/v1/send/edu-test-" + string(rune('a'+n))
		if err := r.hs1.srv.fed.client.Do(ctx, spec.ServerName(r.hs2.ServerName), "PUT", path, body, &resp); err != nil {
			t.Fatalf("transaction %d: %v", n, err)
		}
	}
	typing := func(room, user string) string {
		return `{"edu_type":"m.typing","content":{"room_id":"` + room + `","user_id":"` + user + `","typing":true}}`
	}

	// Every EDU here is wrong; the transaction still succeeds.
	send(`1`, `{}`, `{"edu_type":"m.unknown","content":{}}`,
		`{"edu_type":"m.typing","content":"x"}`,
		typing(r.room, "@mallory:"+r.hs1.ServerName), // not in the room
		typing(r.room, bobID),                        // not the origin's user
		typing("!nowhere:"+r.hs1.ServerName, aliceID),
		`{"edu_type":"m.receipt","content":{"`+r.room+`":{"m.read":{"`+bobID+`":{"event_ids":["$x"],"data":{"ts":1}}}}}}`,
		`{"edu_type":"m.direct_to_device","content":{"sender":"`+bobID+`","type":"m.x","message_id":"m1","messages":{}}}`,
		`{"edu_type":"m.device_list_update","content":{"user_id":"`+bobID+`","device_id":"D","stream_id":5,"prev_id":[]}}`,
		`{"edu_type":"m.signing_key_update","content":{"user_id":"@x:elsewhere"}}`)
	if users, changed := r.hs2.srv.sync.typing.Since(r.room, 0); changed && len(users) > 0 {
		t.Fatalf("bad typing EDUs applied: %v", users)
	}

	// A to-device message_id sent in two transactions is delivered once.
	td := `{"edu_type":"m.direct_to_device","content":{"sender":"` + aliceID + `","type":"m.room.encrypted","message_id":"mid-1",` +
		`"messages":{"` + bobID + `":{"` + bobDev + `":{"n":1}}}}}`
	send(td)
	send(td)
	res := syncUntil(t, r.hs2, r.bob, bobSince, func(res map[string]any) bool { return dig(res, "to_device", "events") != nil })
	if evs := dig(res, "to_device", "events").([]any); len(evs) != 1 {
		t.Fatalf("to-device deliveries: %v", evs)
	}

	// A device-list update whose prev_id hs2 never saw: hs2 resyncs via
	// /user/devices and ends at hs1's real stream_id.
	uploadKeys(t, r.hs1, r.alice, aliceID, deviceOf(t, r.hs1, r.alice))
	real, err := r.hs1.srv.store.LatestDeviceListPos(ctx, aliceID, 1<<62)
	if err != nil || real == 0 {
		t.Fatalf("hs1 stream id: %d %v", real, err)
	}
	waitFor(t, func() bool {
		l, err := r.hs2.srv.store.RemoteDeviceList(ctx, aliceID)
		return err == nil && l.StreamID == real
	})
	send(`{"edu_type":"m.device_list_update","content":{"user_id":"` + aliceID + `","device_id":"GHOST","stream_id":` +
		"900000" + `,"prev_id":[899999]}}`)
	waitFor(t, func() bool {
		l, err := r.hs2.srv.store.RemoteDeviceList(ctx, aliceID)
		return err == nil && !l.Stale && l.StreamID == real
	})

	// The /user/* endpoints refuse bad requests with Matrix errors.
	hs1 := spec.ServerName(r.hs1.ServerName)
	cases := []struct {
		name, method, path, body string
		status                   int
		errcode                  string
	}{
		{"devices of a remote user", "GET", "/_matrix/federation/v1/user/devices/" + url.PathEscape(bobID), "", 400, "M_INVALID_PARAM"},
		{"devices of a bad user ID", "GET", "/_matrix/federation/v1/user/devices/alice", "", 400, "M_INVALID_PARAM"},
		{"query without device_keys", "POST", "/_matrix/federation/v1/user/keys/query", `{}`, 400, "M_BAD_JSON"},
		{"query with a wrong shape", "POST", "/_matrix/federation/v1/user/keys/query", `{"device_keys":[]}`, 400, "M_BAD_JSON"},
		{"claim without one_time_keys", "POST", "/_matrix/federation/v1/user/keys/claim", `{}`, 400, "M_BAD_JSON"},
	}
	for _, tc := range cases {
		var body any
		if tc.body != "" {
			body = json.RawMessage(tc.body)
		}
		err := r.hs2.srv.fed.client.Do(ctx, hs1, tc.method, tc.path, body, nil)
		var he *fedclient.HTTPError
		if !errors.As(err, &he) || he.Status != tc.status || he.Errcode != tc.errcode {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	var devs map[string]any
	if err := r.hs2.srv.fed.client.Do(ctx, hs1, "GET", "/_matrix/federation/v1/user/devices/"+url.PathEscape("@nobody:"+r.hs1.ServerName), nil, &devs); err != nil ||
		len(devs["devices"].([]any)) != 0 {
		t.Errorf("devices of an unknown user: %v %v", devs, err)
	}
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("condition never met")
}
