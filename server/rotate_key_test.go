package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/models/store/storetest"
)

// TestRotateKeyFederation: hs1 signs a room's events, is stopped, rotates
// its key with `kabar rotate-key` and starts again; it publishes the old
// key under old_verify_keys, and hs2, which never saw the old key as
// current, verifies the old events of the room when bob joins it.
func TestRotateKeyFederation(t *testing.T) {
	ca := newTestCA(t)
	hs1 := newRestartable(t, ca, "127.0.0.2", storetest.URLs(t)[0].URL, nil)
	alice := hs1.register(t, "alice", "password-alice")
	room := hs1.call(t, "POST", "/_matrix/client/v3/createRoom", alice, `{"preset":"public_chat"}`, 200)["room_id"].(string)
	before := hs1.call(t, "PUT", "/_matrix/client/v3/rooms/"+url.PathEscape(room)+"/send/m.room.message/t1", alice,
		`{"msgtype":"m.text","body":"signed with the old key"}`, 200)["event_id"].(string)
	keyURL := "https://" + hs1.ServerName + "/_matrix/key/v2/server"
	_, keys1 := fedRequest(t, ca, "GET", keyURL, "", nil)
	var oldID string
	for id := range keys1["verify_keys"].(map[string]any) {
		oldID = id
	}

	hs1.stop()
	cfgFile := filepath.Join(t.TempDir(), "kabar.yaml")
	os.WriteFile(cfgFile, []byte("server_name: "+hs1.ServerName+"\ndata_dir: "+hs1.cfg.DataDir+"\n"), 0o600)
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"rotate-key", "--config", cfgFile}, &out, &errOut); err != nil {
		t.Fatalf("rotate-key: %v %s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "retired "+oldID) {
		t.Fatalf("rotate-key said %q", out.String())
	}
	hs1.start()

	_, keys2 := fedRequest(t, ca, "GET", keyURL, "", nil)
	if _, ok := keys2["verify_keys"].(map[string]any)[oldID]; ok {
		t.Fatalf("old key still current: %v", keys2)
	}
	old, _ := keys2["old_verify_keys"].(map[string]any)[oldID].(map[string]any)
	if old == nil || old["key"] == "" || old["expired_ts"].(float64) <= 0 {
		t.Fatalf("old_verify_keys %v", keys2["old_verify_keys"])
	}

	hs2 := newRestartable(t, ca, "127.0.0.3", storetest.URLs(t)[0].URL, nil)
	bob := hs2.register(t, "bob", "password-bob")
	hs2.call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+url.QueryEscape(hs1.ServerName), bob, `{}`, 200)
	after := hs1.call(t, "PUT", "/_matrix/client/v3/rooms/"+url.PathEscape(room)+"/send/m.room.message/t2", alice,
		`{"msgtype":"m.text","body":"signed with the new key"}`, 200)["event_id"].(string)
	waitEvent(t, hs2.testServer, after)
	// The join verified the room's state, all signed with the old key
	// before the rotation: the old key was taken from old_verify_keys.
	if _, err := hs2.srv.store.EventByID(context.Background(), before); err == nil {
		t.Log("the pre-rotation message reached hs2 too")
	}
}
