package main

import (
	"crypto/ed25519"
	"encoding/json"
	"net/url"
	"slices"
	"testing"
	"time"
)

// e2eeUser is a registered user with one logged-in device.
type e2eeUser struct {
	id, token, device string
	priv              ed25519.PrivateKey // the device's ed25519 key
}

func newDeviceKey() ed25519.PrivateKey {
	_, priv, _ := ed25519.GenerateKey(nil)
	return priv
}

func newE2EEUser(t *testing.T, ts *testServer, name string) e2eeUser {
	t.Helper()
	cli := registerClient(t, ts, name)
	return e2eeUser{id: string(cli.UserID), token: cli.AccessToken, device: string(cli.DeviceID), priv: newDeviceKey()}
}

// login opens a second device of a user registered by registerClient.
func (u e2eeUser) login(t *testing.T, ts *testServer, name string) e2eeUser {
	t.Helper()
	res := ts.call(t, "POST", "/_matrix/client/v3/login", "",
		`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"`+name+`"},"password":"correct horse `+name+`"}`, 200)
	return e2eeUser{id: u.id, token: res["access_token"].(string), device: res["device_id"].(string), priv: newDeviceKey()}
}

// uploadDeviceKeys uploads self-signed device keys plus the given one-time
// and fallback KeyObjects, signed with the device key.
func (u e2eeUser) uploadDeviceKeys(t *testing.T, ts *testServer, otks, fallbacks map[string]any) map[string]any {
	t.Helper()
	dk := signedKey(t, map[string]any{"user_id": u.id, "device_id": u.device,
		"algorithms": []string{"m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"},
		"keys":       map[string]string{"ed25519:" + u.device: b64(u.priv.Public().(ed25519.PublicKey)), "curve25519:" + u.device: "Y3VydmU"},
	}, u.id, "ed25519:"+u.device, u.priv)
	body, _ := json.Marshal(map[string]any{"device_keys": dk, "one_time_keys": signedOTKs(t, otks, u.id, u.device, u.priv),
		"fallback_keys": signedOTKs(t, fallbacks, u.id, u.device, u.priv)})
	return ts.call(t, "POST", "/_matrix/client/v3/keys/upload", u.token, string(body), 200)
}

// syncLocal long-polls /sync until ok accepts a response (10 s at most).
func syncLocal(t *testing.T, ts *testServer, token, since string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		path := "/_matrix/client/v3/sync?timeout=500"
		if since != "" {
			path += "&since=" + url.QueryEscape(since)
		}
		res := ts.call(t, "GET", path, token, "", 200)
		if ok(res) {
			return res
		}
		since, _ = res["next_batch"].(string)
	}
	t.Fatalf("sync: condition never met")
	return nil
}

// listHas reports whether the JSON array at path in res contains user.
func listHas(res map[string]any, user string, path ...string) bool {
	xs, _ := dig(res, path...).([]any)
	return slices.Contains(xs, any(user))
}

// TestE2EEDeviceListTracking: in an encrypted room shared by alice and bob,
// bob's new device reaches alice's device_lists.changed, alice's own new
// device reaches her own, bob leaving the last shared encrypted room lands
// in device_lists.left, and /keys/changes answers the same between two
// tokens (client-server-api "Tracking the device list for a user").
func TestE2EEDeviceListTracking(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		alice, bob := newE2EEUser(t, ts, "alice"), newE2EEUser(t, ts, "bob")
		room := ts.call(t, "POST", "/_matrix/client/v3/createRoom", alice.token,
			`{"preset":"private_chat","initial_state":[{"type":"m.room.encryption","state_key":"","content":{"algorithm":"m.megolm.v1.aes-sha2"}}]}`, 200)["room_id"].(string)
		esc := url.PathEscape(room)
		ts.call(t, "POST", "/_matrix/client/v3/rooms/"+esc+"/invite", alice.token, `{"user_id":"`+bob.id+`"}`, 200)
		before := ts.call(t, "GET", "/_matrix/client/v3/sync", alice.token, "", 200)["next_batch"].(string)
		ts.call(t, "POST", "/_matrix/client/v3/rooms/"+esc+"/join", bob.token, `{}`, 200)
		// bob's join makes him a tracked user of alice.
		first := syncLocal(t, ts, alice.token, before,
			func(r map[string]any) bool { return listHas(r, bob.id, "device_lists", "changed") })["next_batch"].(string)

		bob2 := bob.login(t, ts, "bob")
		bob2.uploadDeviceKeys(t, ts, nil, nil)
		afterBob := syncLocal(t, ts, alice.token, first, func(r map[string]any) bool {
			return listHas(r, bob.id, "device_lists", "changed")
		})["next_batch"].(string)

		alice2 := alice.login(t, ts, "alice")
		alice2.uploadDeviceKeys(t, ts, nil, nil)
		afterOwn := syncLocal(t, ts, alice.token, afterBob, func(r map[string]any) bool {
			return listHas(r, alice.id, "device_lists", "changed")
		})["next_batch"].(string)

		// /keys/changes reports against the rooms shared now, so the ranges
		// before the departure are checked while bob is still in the room.
		checkKeyChanges(t, ts, alice.token, []changesCase{
			{"bob's new device", first, afterBob, []string{bob.id}, []string{alice.id}, nil, []string{bob.id}},
			{"own new device", afterBob, afterOwn, []string{alice.id}, []string{bob.id}, nil, []string{bob.id}},
			{"reversed range", afterOwn, afterBob, []string{alice.id}, []string{bob.id}, nil, nil},
			{"bob's join", before, first, []string{bob.id}, nil, nil, []string{bob.id}},
		})
		ts.call(t, "POST", "/_matrix/client/v3/rooms/"+esc+"/leave", bob.token, `{}`, 200)
		afterLeave := syncLocal(t, ts, alice.token, afterOwn, func(r map[string]any) bool {
			return listHas(r, bob.id, "device_lists", "left")
		})
		if listHas(afterLeave, bob.id, "device_lists", "changed") {
			t.Fatalf("bob both left and changed: %v", afterLeave["device_lists"])
		}
		end := afterLeave["next_batch"].(string)
		checkKeyChanges(t, ts, alice.token, []changesCase{
			{"bob left", afterOwn, end, nil, []string{bob.id}, []string{bob.id}, nil},
		})

		// bob's own sync: alice is no longer someone he shares a room with.
		bobRes := ts.call(t, "GET", "/_matrix/client/v3/keys/changes?from="+url.QueryEscape(afterOwn)+"&to="+url.QueryEscape(end), bob.token, "", 200)
		if !listHas(bobRes, alice.id, "left") {
			t.Fatalf("bob's /keys/changes after leaving: %v", bobRes)
		}
	})
}

// changesCase is one GET /keys/changes expectation.
type changesCase struct {
	name, from, to      string
	changed, notChanged []string
	left, notLeft       []string
}

func checkKeyChanges(t *testing.T, ts *testServer, token string, cases []changesCase) {
	t.Helper()
	for _, c := range cases {
		res := ts.call(t, "GET", "/_matrix/client/v3/keys/changes?from="+url.QueryEscape(c.from)+"&to="+url.QueryEscape(c.to), token, "", 200)
		want := func(list string, users []string, in bool) {
			for _, u := range users {
				if listHas(res, u, list) != in {
					t.Errorf("%s: %s has %s = %v, want %v: %v", c.name, list, u, !in, in, res)
				}
			}
		}
		want("changed", c.changed, true)
		want("changed", c.notChanged, false)
		want("left", c.left, true)
		want("left", c.notLeft, false)
	}
}

// TestE2EEKeyCountsInSync: device_one_time_keys_count and
// device_unused_fallback_key_types follow uploads and claims
// (client-server-api "Extensions to /sync" of the E2EE module).
func TestE2EEKeyCountsInSync(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		alice, bob := newE2EEUser(t, ts, "alice"), newE2EEUser(t, ts, "bob")
		alice.uploadDeviceKeys(t, ts,
			map[string]any{"signed_curve25519:A1": map[string]any{"key": "k1"}, "signed_curve25519:A2": map[string]any{"key": "k2"}},
			map[string]any{"signed_curve25519:F1": map[string]any{"key": "fb", "fallback": true}})
		claim := `{"one_time_keys":{"` + alice.id + `":{"` + alice.device + `":"signed_curve25519"}}}`
		steps := []struct {
			name     string
			claims   int
			otks     float64
			fallback bool
		}{
			{"after upload", 0, 2, true},
			{"one claimed", 1, 1, true},
			{"all one-time keys claimed", 1, 0, true},
			{"fallback claimed", 1, 0, false},
			{"fallback stays used", 1, 0, false},
		}
		for _, s := range steps {
			for range s.claims {
				ts.call(t, "POST", "/_matrix/client/v3/keys/claim", bob.token, claim, 200)
			}
			res := ts.call(t, "GET", "/_matrix/client/v3/sync", alice.token, "", 200)
			got, _ := dig(res, "device_one_time_keys_count", "signed_curve25519").(float64)
			types, present := res["device_unused_fallback_key_types"].([]any)
			if got != s.otks || !present || slices.Contains(types, any("signed_curve25519")) != s.fallback {
				t.Fatalf("%s: counts %v fallback %v", s.name, res["device_one_time_keys_count"], res["device_unused_fallback_key_types"])
			}
		}
		// A new fallback key is unused again.
		fb2, _ := json.Marshal(map[string]any{"fallback_keys": signedOTKs(t,
			map[string]any{"signed_curve25519:F2": map[string]any{"key": "fb2", "fallback": true}}, alice.id, alice.device, alice.priv)})
		ts.call(t, "POST", "/_matrix/client/v3/keys/upload", alice.token, string(fb2), 200)
		res := ts.call(t, "GET", "/_matrix/client/v3/sync", alice.token, "", 200)
		if types, _ := res["device_unused_fallback_key_types"].([]any); !slices.Contains(types, any("signed_curve25519")) {
			t.Fatalf("after a new fallback key: %v", res["device_unused_fallback_key_types"])
		}
	})
}
