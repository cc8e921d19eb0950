package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/models/store/storetest"
)

// escapeAll percent-encodes every byte that is not a letter or digit, the
// way Synapse escapes IDs in federation paths (!room%3Aserver is sent as
// %21room%3Aserver, '$' as %24).
func escapeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
	}
	return b.String()
}

// TestFederationEscapedPathParams: federation path parameters are decoded
// once whatever the peer escapes (found against Synapse, which escapes '!',
// ':', '$' and '@').
func TestFederationEscapedPathParams(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ca, hs1, hs2, key1 := signingPeer(t, db.URL)
			bob := hs2.register(t, "bob", "password-bob")
			roomID := hs2.call(t, "POST", "/_matrix/client/v3/createRoom", bob,
				`{"preset":"public_chat","initial_state":[{"type":"m.room.history_visibility","state_key":"","content":{"history_visibility":"world_readable"}}]}`, 200)["room_id"].(string)
			eventID := hs2.call(t, "PUT", "/_matrix/client/v3/rooms/"+url.PathEscape(roomID)+"/send/m.room.message/t1", bob,
				`{"msgtype":"m.text","body":"hello"}`, 200)["event_id"].(string)
			alice := "@alice:" + hs1.ServerName
			fed := func(path string) (int, map[string]any) {
				status, body := signedFedRequest(t, ca, key1, hs1.ServerName, hs2.ServerName, "GET", path, nil)
				var out map[string]any
				json.Unmarshal(body, &out)
				return status, out
			}
			if status, out := fed("/_matrix/federation/v1/make_join/" + escapeAll(roomID) + "/" + escapeAll(alice) + "?ver=11&ver=12"); status != 200 || out["event"] == nil {
				t.Fatalf("make_join with escaped IDs: %d %v", status, out)
			}
			if status, out := fed("/_matrix/federation/v1/event/" + escapeAll(eventID)); status != 200 {
				t.Fatalf("event with escaped ID: %d %v", status, out)
			}
			if status, out := fed("/_matrix/federation/v1/state_ids/" + escapeAll(roomID) + "?event_id=" + url.QueryEscape(eventID)); status != 200 || out["pdu_ids"] == nil {
				t.Fatalf("state_ids with escaped room ID: %d %v", status, out)
			}
			// Decoded exactly once: an escaped '%' stays a '%', so an ID
			// naming nothing is not decoded again into one that exists.
			hs2.register(t, "boba", "password-boba")
			literal := "@bob%61:" + hs2.ServerName // "%61" is 'a' only if decoded twice
			if status, out := fed("/_matrix/federation/v1/user/devices/" + escapeAll(literal)); status != 200 || out["user_id"] != literal || len(out["devices"].([]any)) != 0 {
				t.Fatalf("user/devices decoded twice: %d %v", status, out)
			}
			if status, out := fed("/_matrix/federation/v1/hierarchy/" + escapeAll(roomID)); status != 200 {
				t.Fatalf("hierarchy with escaped room ID: %d %v", status, out)
			}
			notRoom := fmt.Sprintf("!%%%02X%s", roomID[1], roomID[2:])
			if status, out := fed("/_matrix/federation/v1/hierarchy/" + escapeAll(notRoom)); status == 200 {
				t.Fatalf("hierarchy of %s decoded twice into %s: %v", notRoom, roomID, out)
			}
		})
	}
}
