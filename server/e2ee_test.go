package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	fedevent "github.com/kabarchat/kabar/federation/event"
)

// signedKey signs obj as user with the ed25519 key keyID.
func signedKey(t *testing.T, obj map[string]any, user, keyID string, priv ed25519.PrivateKey) json.RawMessage {
	t.Helper()
	raw, _ := json.Marshal(obj)
	out, err := fedevent.SignJSON(raw, user, keyID, priv)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// signedOTKs signs each one-time or fallback KeyObject with the device's
// ed25519 key: signed_curve25519 keys must carry signatures
// (client-server-api "Key algorithms").
func signedOTKs(t *testing.T, keys map[string]any, user, device string, priv ed25519.PrivateKey) map[string]any {
	t.Helper()
	out := make(map[string]any, len(keys))
	for id, k := range keys {
		obj, _ := k.(map[string]any)
		out[id] = signedKey(t, obj, user, "ed25519:"+device, priv)
	}
	return out
}

func b64(k []byte) string { return base64.RawStdEncoding.EncodeToString(k) }

// deviceKeysFor builds a self-signed DeviceKeys object.
func deviceKeysFor(t *testing.T, cli *mautrix.Client, priv ed25519.PrivateKey) json.RawMessage {
	dev := string(cli.DeviceID)
	return signedKey(t, map[string]any{"user_id": string(cli.UserID), "device_id": dev,
		"algorithms": []string{"m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"},
		"keys":       map[string]string{"ed25519:" + dev: b64(priv.Public().(ed25519.PublicKey)), "curve25519:" + dev: "Y3VydmU"},
	}, string(cli.UserID), "ed25519:"+dev, priv)
}

func e2eeJSON(t *testing.T, ts *testServer, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	status, data := ts.do(t, method, path, token, bytes.NewReader(b))
	var out map[string]any
	json.Unmarshal(data, &out)
	return status, out
}

// TestE2EEFlows: two users upload and query device keys, claim one-time
// keys down to the fallback, exchange to-device messages through /sync,
// upload cross-signing keys and signatures, and round-trip a key backup.
func TestE2EEFlows(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
		_, alicePriv, _ := ed25519.GenerateKey(nil)
		_, bobPriv, _ := ed25519.GenerateKey(nil)

		// Upload: device keys, two one-time keys, a fallback key.
		status, res := e2eeJSON(t, ts, "POST", "/_matrix/client/v3/keys/upload", alice.AccessToken, map[string]any{
			"device_keys": deviceKeysFor(t, alice, alicePriv),
			"one_time_keys": signedOTKs(t, map[string]any{"signed_curve25519:A1": map[string]any{"key": "k1"}, "signed_curve25519:A2": map[string]any{"key": "k2"}},
				string(alice.UserID), string(alice.DeviceID), alicePriv),
			"fallback_keys": signedOTKs(t, map[string]any{"signed_curve25519:F1": map[string]any{"key": "fb", "fallback": true}},
				string(alice.UserID), string(alice.DeviceID), alicePriv),
		})
		if status != 200 || res["one_time_key_counts"].(map[string]any)["signed_curve25519"] != float64(2) {
			t.Fatalf("upload: %d %v", status, res)
		}
		status, _ = e2eeJSON(t, ts, "POST", "/_matrix/client/v3/keys/upload", bob.AccessToken, map[string]any{
			"device_keys": deviceKeysFor(t, bob, bobPriv)})
		if status != 200 {
			t.Fatalf("bob upload: %d", status)
		}

		// Query with mautrix.
		q, err := bob.QueryKeys(ctx, &mautrix.ReqQueryKeys{DeviceKeys: mautrix.DeviceKeysRequest{alice.UserID: {}, "@x:remote.example": {}}})
		if err != nil {
			t.Fatalf("query: %v", err)
		}
		dk, ok := q.DeviceKeys[alice.UserID][alice.DeviceID]
		if !ok || dk.Keys[id.NewDeviceKeyID(id.KeyAlgorithmEd25519, alice.DeviceID)] != b64(alicePriv.Public().(ed25519.PublicKey)) {
			t.Fatalf("query result: %+v", q.DeviceKeys)
		}
		if _, ok := q.Failures["remote.example"]; !ok {
			t.Fatalf("failures: %v", q.Failures)
		}

		// Claim: two one-time keys, then the fallback key (repeatedly).
		claimReq := &mautrix.ReqClaimKeys{OneTimeKeys: mautrix.OneTimeKeysRequest{
			alice.UserID: {alice.DeviceID: id.KeyAlgorithmSignedCurve25519, "NOSUCHDEVICE": id.KeyAlgorithmSignedCurve25519}}}
		seen := map[id.KeyID]bool{}
		for i, want := range []string{"", "", "signed_curve25519:F1", "signed_curve25519:F1"} {
			c, err := bob.ClaimKeys(ctx, claimReq)
			if err != nil {
				t.Fatalf("claim %d: %v", i, err)
			}
			keys := c.OneTimeKeys[alice.UserID][alice.DeviceID]
			if len(keys) != 1 || len(c.OneTimeKeys[alice.UserID]) != 1 {
				t.Fatalf("claim %d: %+v", i, c.OneTimeKeys)
			}
			for k := range keys {
				if (want == "" && (seen[k] || k == "signed_curve25519:F1")) || (want != "" && string(k) != want) {
					t.Fatalf("claim %d got %s", i, k)
				}
				seen[k] = true
			}
		}

		// To-device: delivered in /sync, repeated until acknowledged.
		sync1, err := alice.SyncRequest(ctx, 0, "", "", false, "")
		if err != nil {
			t.Fatal(err)
		}
		if sync1.DeviceOTKCount.SignedCurve25519 != 0 || len(sync1.FallbackKeys) != 0 {
			t.Fatalf("counts: %+v %v", sync1.DeviceOTKCount, sync1.FallbackKeys)
		}
		msg := &mautrix.ReqSendToDevice{Messages: map[id.UserID]map[id.DeviceID]*event.Content{
			alice.UserID: {"*": {Raw: map[string]any{"hello": "world"}}}}}
		for range 2 { // the same txn ID twice delivers once
			if _, err := bob.MakeRequest(ctx, http.MethodPut, bob.BuildClientURL("v3", "sendToDevice", "m.test", "txn1"), msg, nil); err != nil {
				t.Fatalf("sendToDevice: %v", err)
			}
		}
		if _, err := bob.SendToDevice(ctx, event.NewEventType("m.test2"), msg); err != nil {
			t.Fatalf("sendToDevice: %v", err)
		}
		sync2, err := alice.SyncRequest(ctx, 0, sync1.NextBatch, "", false, "")
		if err != nil || len(sync2.ToDevice.Events) != 2 || sync2.ToDevice.Events[0].Sender != bob.UserID {
			t.Fatalf("to_device: %+v %v", sync2.ToDevice, err)
		}
		again, err := alice.SyncRequest(ctx, 0, sync1.NextBatch, "", false, "")
		if err != nil || len(again.ToDevice.Events) != 2 {
			t.Fatalf("unacknowledged to_device must be redelivered: %+v %v", again.ToDevice, err)
		}
		sync3, err := alice.SyncRequest(ctx, 0, sync2.NextBatch, "", false, "")
		if err != nil || len(sync3.ToDevice.Events) != 0 {
			t.Fatalf("acknowledged to_device redelivered: %+v %v", sync3.ToDevice, err)
		}

		crossSigning(t, ts, alice, alicePriv)
		keyBackup(t, ts, alice)
	})
}

func crossSigning(t *testing.T, ts *testServer, alice *mautrix.Client, devPriv ed25519.PrivateKey) {
	user := string(alice.UserID)
	masterPub, masterPriv, _ := ed25519.GenerateKey(nil)
	sskPub, sskPriv, _ := ed25519.GenerateKey(nil)
	master := map[string]any{"user_id": user, "usage": []string{"master"}, "keys": map[string]string{"ed25519:" + b64(masterPub): b64(masterPub)}}
	ssk := signedKey(t, map[string]any{"user_id": user, "usage": []string{"self_signing"},
		"keys": map[string]string{"ed25519:" + b64(sskPub): b64(sskPub)}}, user, "ed25519:"+b64(masterPub), masterPriv)
	status, res := e2eeJSON(t, ts, "POST", "/_matrix/client/v3/keys/device_signing/upload", alice.AccessToken,
		map[string]any{"master_key": master, "self_signing_key": ssk})
	if status != 200 {
		t.Fatalf("device_signing/upload: %d %v", status, res)
	}
	// Replacing needs UIA.
	otherPub, _, _ := ed25519.GenerateKey(nil)
	status, res = e2eeJSON(t, ts, "POST", "/_matrix/client/v3/keys/device_signing/upload", alice.AccessToken,
		map[string]any{"master_key": map[string]any{"user_id": user, "usage": []string{"master"}, "keys": map[string]string{"ed25519:" + b64(otherPub): b64(otherPub)}}})
	if status != 401 || res["session"] == nil {
		t.Fatalf("replacement without UIA: %d %v", status, res)
	}
	// The self-signing key signs the device.
	var dk map[string]any
	json.Unmarshal(deviceKeysFor(t, alice, devPriv), &dk)
	delete(dk, "signatures")
	signed := signedKey(t, dk, user, "ed25519:"+b64(sskPub), sskPriv)
	status, res = e2eeJSON(t, ts, "POST", "/_matrix/client/v3/keys/signatures/upload", alice.AccessToken,
		map[string]any{user: map[string]any{string(alice.DeviceID): signed}})
	if status != 200 || len(res["failures"].(map[string]any)) != 0 {
		t.Fatalf("signatures/upload: %d %v", status, res)
	}
	q, err := alice.QueryKeys(context.Background(), &mautrix.ReqQueryKeys{DeviceKeys: mautrix.DeviceKeysRequest{alice.UserID: {}}})
	if err != nil {
		t.Fatal(err)
	}
	sigs := q.DeviceKeys[alice.UserID][alice.DeviceID].Signatures[alice.UserID]
	if _, ok := sigs[id.NewKeyID(id.KeyAlgorithmEd25519, b64(sskPub))]; !ok {
		t.Fatalf("cross-signature not visible: %v", sigs)
	}
	if _, ok := q.MasterKeys[alice.UserID]; !ok {
		t.Fatalf("master key missing: %+v", q.MasterKeys)
	}
	// A forged signature is reported per key.
	forged := signedKey(t, dk, user, "ed25519:"+b64(sskPub), masterPriv)
	_, res = e2eeJSON(t, ts, "POST", "/_matrix/client/v3/keys/signatures/upload", alice.AccessToken,
		map[string]any{user: map[string]any{string(alice.DeviceID): forged}})
	f := res["failures"].(map[string]any)[user].(map[string]any)[string(alice.DeviceID)].(map[string]any)
	if f["errcode"] != "M_INVALID_SIGNATURE" {
		t.Fatalf("forged signature: %v", res)
	}
}

func keyBackup(t *testing.T, ts *testServer, alice *mautrix.Client) {
	tok := alice.AccessToken
	status, res := e2eeJSON(t, ts, "POST", "/_matrix/client/v3/room_keys/version", tok,
		map[string]any{"algorithm": "m.megolm_backup.v1.curve25519-aes-sha2", "auth_data": map[string]any{"public_key": "abc"}})
	if status != 200 || res["version"] != "1" {
		t.Fatalf("create backup: %d %v", status, res)
	}
	put := func(idx int, verified bool, data string) map[string]any {
		_, r := e2eeJSON(t, ts, "PUT", "/_matrix/client/v3/room_keys/keys/!r:kabar.test/s1?version=1", tok,
			map[string]any{"first_message_index": idx, "forwarded_count": 0, "is_verified": verified, "session_data": map[string]any{"d": data}})
		return r
	}
	if r := put(5, false, "a"); r["count"] != float64(1) {
		t.Fatalf("put: %v", r)
	}
	put(3, false, "b") // lower first_message_index wins
	put(1, false, "c") // but...
	put(9, true, "d")  // ...verified beats everything
	put(0, false, "e") // unverified loses to verified
	status, res = e2eeJSON(t, ts, "GET", "/_matrix/client/v3/room_keys/keys?version=1", tok, nil)
	got := res["rooms"].(map[string]any)["!r:kabar.test"].(map[string]any)["sessions"].(map[string]any)["s1"].(map[string]any)
	if status != 200 || got["session_data"].(map[string]any)["d"] != "d" {
		t.Fatalf("get keys: %d %v", status, res)
	}
	status, res = e2eeJSON(t, ts, "GET", "/_matrix/client/v3/room_keys/version", tok, nil)
	if status != 200 || res["count"] != float64(1) || res["version"] != "1" {
		t.Fatalf("get version: %d %v", status, res)
	}
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		errcode      string
	}{
		{"PUT", "/_matrix/client/v3/room_keys/keys/!r:kabar.test/s2?version=7", map[string]any{"first_message_index": 0, "forwarded_count": 0, "is_verified": false, "session_data": map[string]any{}}, 403, "M_WRONG_ROOM_KEYS_VERSION"},
		{"GET", "/_matrix/client/v3/room_keys/keys/!r:kabar.test/nope?version=1", nil, 404, "M_NOT_FOUND"},
		{"GET", "/_matrix/client/v3/room_keys/version/9", nil, 404, "M_NOT_FOUND"},
		{"PUT", "/_matrix/client/v3/room_keys/keys?version=1", map[string]any{"rooms": map[string]any{"!r:x": map[string]any{"sessions": map[string]any{"s": map[string]any{}}}}}, 400, "M_BAD_JSON"},
		{"DELETE", "/_matrix/client/v3/room_keys/version/1", nil, 200, ""},
		{"DELETE", "/_matrix/client/v3/room_keys/version/1", nil, 200, ""},
		{"GET", "/_matrix/client/v3/room_keys/version", nil, 404, "M_NOT_FOUND"},
	} {
		status, res := e2eeJSON(t, ts, tc.method, tc.path, tok, tc.body)
		if status != tc.status || (tc.errcode != "" && res["errcode"] != tc.errcode) {
			t.Errorf("%s %s: %d %v, want %d %s", tc.method, tc.path, status, res, tc.status, tc.errcode)
		}
	}
}

// TestE2EEBadInput: malformed keys and signatures get exact errors.
func TestE2EEBadInput(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		alice := registerClient(t, ts, "alice")
		_, priv, _ := ed25519.GenerateKey(nil)
		_, other, _ := ed25519.GenerateKey(nil)
		good := deviceKeysFor(t, alice, priv)
		var forged map[string]any
		json.Unmarshal(good, &forged)
		forged["signatures"] = map[string]any{string(alice.UserID): map[string]any{"ed25519:" + string(alice.DeviceID): b64(ed25519.Sign(other, []byte("x")))}}
		wrongUser := map[string]any{}
		json.Unmarshal(good, &wrongUser)
		wrongUser["user_id"] = "@mallory:kabar.test"
		up := "/_matrix/client/v3/keys/upload"
		user, dev := string(alice.UserID), string(alice.DeviceID)
		otk := func(id string, key any) map[string]any {
			return map[string]any{"one_time_keys": map[string]any{id: key}}
		}
		signed := func(id string, obj map[string]any) map[string]any {
			return otk(id, signedOTKs(t, map[string]any{id: obj}, user, dev, priv)[id])
		}
		unsignedKey := func(sigs any) map[string]any { return map[string]any{"key": "u", "signatures": sigs} }
		for i, tc := range []struct {
			path    string
			body    any
			status  int
			errcode string
		}{
			{up, map[string]any{"device_keys": forged}, 400, "M_INVALID_SIGNATURE"},
			{up, map[string]any{"device_keys": wrongUser}, 400, "M_INVALID_PARAM"},
			{up, map[string]any{"device_keys": map[string]any{"user_id": string(alice.UserID)}}, 400, "M_INVALID_PARAM"},
			{up, map[string]any{"device_keys": "nope"}, 400, "M_BAD_JSON"},
			{up, map[string]any{"one_time_keys": map[string]any{"nocolon": "k"}}, 400, "M_BAD_JSON"},
			{up, map[string]any{"one_time_keys": map[string]any{"signed_curve25519:A": 5}}, 400, "M_BAD_JSON"},
			{up, signed("signed_curve25519:A", map[string]any{"key": "a"}), 200, ""},
			{up, signed("signed_curve25519:A", map[string]any{"key": "b"}), 400, "M_INVALID_PARAM"},
			// signed_curve25519 keys are KeyObjects signed by the uploader
			// ("Key algorithms"); plain curve25519 keys are strings.
			{up, otk("signed_curve25519:U1", map[string]any{"key": "u"}), 400, "M_BAD_JSON"},
			{up, otk("signed_curve25519:U2", "plainstring"), 400, "M_BAD_JSON"},
			{up, otk("signed_curve25519:U3", unsignedKey(map[string]any{})), 400, "M_BAD_JSON"},
			{up, otk("signed_curve25519:U4", unsignedKey(map[string]any{user: map[string]any{}})), 400, "M_BAD_JSON"},
			{up, otk("signed_curve25519:U5", unsignedKey(map[string]any{"@mallory:kabar.test": map[string]any{"ed25519:X": "sig"}})), 400, "M_BAD_JSON"},
			{up, otk("signed_curve25519:U6", unsignedKey("nope")), 400, "M_BAD_JSON"},
			{up, otk("signed_curve25519:U7", unsignedKey(map[string]any{user: map[string]any{"ed25519:" + dev: 1}})), 400, "M_BAD_JSON"},
			{up, map[string]any{"fallback_keys": map[string]any{"signed_curve25519:F1": map[string]any{"key": "f", "fallback": true}}}, 400, "M_BAD_JSON"},
			{up, map[string]any{"fallback_keys": map[string]any{"signed_curve25519:F2": "plainstring"}}, 400, "M_BAD_JSON"},
			{up, otk("curve25519:C1", "Y3VydmU"), 200, ""},
			{up, map[string]any{"fallback_keys": signedOTKs(t, map[string]any{"signed_curve25519:F3": map[string]any{"key": "f", "fallback": true}}, user, dev, priv)}, 200, ""},
			{up, map[string]any{"device_keys": good}, 200, ""},
			{up, map[string]any{"device_keys": deviceKeysFor(t, alice, other)}, 400, "M_INVALID_PARAM"},
			{"/_matrix/client/v3/keys/query", map[string]any{}, 400, "M_BAD_JSON"},
			{"/_matrix/client/v3/keys/claim", map[string]any{"one_time_keys": 1}, 400, "M_BAD_JSON"},
			{"/_matrix/client/v3/keys/device_signing/upload", map[string]any{"self_signing_key": map[string]any{"user_id": string(alice.UserID), "usage": []string{"self_signing"}, "keys": map[string]string{"ed25519:" + b64(priv.Public().(ed25519.PublicKey)): b64(priv.Public().(ed25519.PublicKey))}}}, 400, "M_MISSING_PARAM"},
			{"/_matrix/client/v3/keys/device_signing/upload", map[string]any{"master_key": map[string]any{"user_id": string(alice.UserID), "usage": []string{"master"}, "keys": map[string]string{"ed25519:abc": "abc"}}}, 400, "M_BAD_JSON"},
		} {
			status, res := e2eeJSON(t, ts, "POST", tc.path, alice.AccessToken, tc.body)
			if status != tc.status || (tc.errcode != "" && res["errcode"] != tc.errcode) {
				t.Errorf("case %d %s: %d %v, want %d %s", i, tc.path, status, res, tc.status, tc.errcode)
			}
		}
		// The refusal names the offending key.
		if _, res := e2eeJSON(t, ts, "POST", up, alice.AccessToken, otk("signed_curve25519:NAMED", map[string]any{"key": "u"})); !strings.Contains(fmt.Sprint(res["error"]), "signed_curve25519:NAMED") {
			t.Errorf("unsigned key error does not name the key: %v", res)
		}
		status, res := e2eeJSON(t, ts, "PUT", "/_matrix/client/v3/sendToDevice/m.test/t1", alice.AccessToken, map[string]any{"nomessages": 1})
		if status != 400 || res["errcode"] != "M_BAD_JSON" {
			t.Errorf("sendToDevice without messages: %d %v", status, res)
		}
		status, _ = e2eeJSON(t, ts, "GET", "/_matrix/client/v3/keys/changes?from=x&to=y", alice.AccessToken, nil)
		if status != 400 {
			t.Errorf("keys/changes with bad tokens: %d", status)
		}
		_ = fmt.Sprint
	})
}
