package main

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// cachedDevices returns the device IDs a server has cached for a remote
// user (nil when nothing is cached).
func cachedDevices(t *testing.T, ts *fedServer, userID string) map[string]json.RawMessage {
	t.Helper()
	rows, err := ts.srv.store.RemoteKeyCaches(context.Background(), []string{userID})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		return nil
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal([]byte(rows[0].DeviceKeys), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestE2EEJoinAndRemoteCache: alice@hs1 and bob@hs2 upload keys before
// they share a room. When bob joins alice's room, hs2 announces bob's
// devices to hs1 and hs1 resyncs bob's list (server-server-api "Device
// Management"), so hs1 caches bob's keys; /keys/query on hs1 then answers
// from that cache until bob's next device update drops it.
func TestE2EEJoinAndRemoteCache(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t)
	dbs := storetest.URLs(t)
	hs1 := startFedServer(t, ca, "127.0.0.2", dbs[len(dbs)-1].URL)
	hs2 := startFedServer(t, ca, "127.0.0.3", storetest.URLs(t)[0].URL) // its own database
	alice, bob := hs1.register(t, "alice", "password-alice"), hs2.register(t, "bob", "password-bob")
	aliceID, bobID := "@alice:"+hs1.ServerName, "@bob:"+hs2.ServerName
	aliceDev, bobDev := deviceOf(t, hs1, alice), deviceOf(t, hs2, bob)
	uploadKeys(t, hs1, alice, aliceID, aliceDev)
	bobKey := uploadKeys(t, hs2, bob, bobID, bobDev)

	room := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice, `{"preset":"private_chat"}`, 200)["room_id"].(string)
	hs1.call(t, "POST", "/_matrix/client/v3/rooms/"+url.PathEscape(room)+"/invite", alice, `{"user_id":"`+bobID+`"}`, 200)
	hs2.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+url.QueryEscape(hs1.ServerName), bob, `{}`, 200)

	t.Run("joiner's keys reach the other server", func(t *testing.T) {
		waitFor(t, func() bool {
			l, err := hs1.srv.store.RemoteDeviceList(ctx, bobID)
			return err == nil && !l.Stale && cachedDevices(t, hs1, bobID)[bobDev] != nil
		})
	})
	t.Run("query answers from the cache", func(t *testing.T) {
		// Rewrite the cached entry: only a cache hit can return it.
		marker := `{"MARKER":{"user_id":"` + bobID + `","device_id":"MARKER"}}`
		if err := hs1.srv.store.PutRemoteKeyCache(ctx, models.RemoteKeyCache{UserID: bobID, DeviceKeys: marker,
			FetchedAt: time.Now().UnixMilli()}); err != nil {
			t.Fatal(err)
		}
		q := hs1.call(t, "POST", "/_matrix/client/v3/keys/query", alice, `{"device_keys":{"`+bobID+`":[]}}`, 200)
		if dig(q, "device_keys", bobID, "MARKER") == nil {
			t.Fatalf("query did not use the cache: %v", q)
		}
		q = hs1.call(t, "POST", "/_matrix/client/v3/keys/query", alice, `{"device_keys":{"`+bobID+`":["NOPE"]}}`, 200)
		if devs, _ := dig(q, "device_keys", bobID).(map[string]any); len(devs) != 0 {
			t.Fatalf("query for one unknown device: %v", q)
		}
	})
	t.Run("a device update drops the cache", func(t *testing.T) {
		login := hs2.call(t, "POST", "/_matrix/client/v3/login", "",
			`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"bob"},"password":"password-bob"}`, 200)
		dev2 := login["device_id"].(string)
		key2 := uploadKeys(t, hs2, login["access_token"].(string), bobID, dev2)
		waitFor(t, func() bool { return cachedDevices(t, hs1, bobID)["MARKER"] == nil })
		q := hs1.call(t, "POST", "/_matrix/client/v3/keys/query", alice, `{"device_keys":{"`+bobID+`":[]}}`, 200)
		if dig(q, "device_keys", bobID, dev2, "keys", "ed25519:"+dev2) != key2 ||
			dig(q, "device_keys", bobID, bobDev, "keys", "ed25519:"+bobDev) != bobKey {
			t.Fatalf("query after bob's new device: %v", q)
		}
		// The fresh answer is cached again.
		if c := cachedDevices(t, hs1, bobID); c[dev2] == nil || c[bobDev] == nil {
			t.Fatalf("cache after the query: %v", c)
		}
	})
}
