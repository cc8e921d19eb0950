package main

import (
	"encoding/json"
	"testing"
)

// TestClientPathParamsEscaped: every client API path parameter is decoded
// exactly once (echoserver.UnescapeParams on each route), whether the
// client escapes every byte, only some or none: IDs, aliases, event types,
// a state key with '/', and a transaction ID whose decoded form holds a
// literal '%' (idempotency is keyed on the decoded value).
func TestClientPathParamsEscaped(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
		aliceID, atok, btok := string(alice.UserID), alice.AccessToken, bob.AccessToken
		const v3 = "/_matrix/client/v3"
		const alias = "#esc.room:kabar.test"
		room := ts.call(t, "POST", v3+"/createRoom", atok,
			`{"preset":"public_chat","room_alias_name":"esc.room"}`, 200)["room_id"].(string)
		E := escapeAll
		rooms := v3 + "/rooms/" + E(room)

		// Send: the txnId "tx%25n" decodes to "tx%n" once, never twice.
		send := func(txn string) string {
			return ts.call(t, "PUT", rooms+"/send/"+E("m.room.message")+"/"+txn, atok,
				`{"msgtype":"m.text","body":"escaped"}`, 200)["event_id"].(string)
		}
		ev := send("tx%25n")
		if again := send("%74x%25n"); again != ev {
			t.Errorf("same decoded txnId tx%%n gave %s then %s", ev, again)
		}
		if other := send("tx%2525n"); other == ev {
			t.Errorf("txnId tx%%25n reused the event of tx%%n")
		}
		got := ts.call(t, "GET", rooms+"/event/"+E(ev), atok, "", 200)
		if got["event_id"] != ev || dig(got, "content", "body") != "escaped" {
			t.Errorf("event by escaped ID: %v", got)
		}
		// An escaped '/' stays inside the {eventId} segment.
		if e := ts.call(t, "GET", rooms+"/event/%24abc%2Fdef", atok, "", 404); e["errcode"] != "M_NOT_FOUND" {
			t.Errorf("unknown event with %%2F: %v", e)
		}

		// State keys with '/' and a literal '%', escaped fully or partly.
		for _, sk := range []string{E("a/b%c"), "a/b%25c"} {
			ts.call(t, "PUT", rooms+"/state/"+E("m.custom")+"/"+sk, atok, `{"k":"`+sk+`"}`, 200)
			if got := ts.call(t, "GET", rooms+"/state/m.custom/"+sk, atok, "", 200); got["k"] != sk {
				t.Errorf("state key %s read back %v", sk, got)
			}
		}
		var keys []string
		var state []struct {
			Type     string `json:"type"`
			StateKey string `json:"state_key"`
		}
		if _, body := ts.do(t, "GET", rooms+"/state", atok, nil); json.Unmarshal(body, &state) != nil {
			t.Fatalf("state: %s", body)
		}
		for _, ev := range state {
			if ev.Type == "m.custom" {
				keys = append(keys, ev.StateKey)
			}
		}
		if len(keys) != 1 || keys[0] != "a/b%c" {
			t.Errorf("m.custom state keys %q, want exactly [a/b%%c]", keys)
		}

		// Users, aliases, joins.
		ts.call(t, "PUT", v3+"/profile/"+E(aliceID)+"/displayname", atok, `{"displayname":"Al"}`, 200)
		if p := ts.call(t, "GET", v3+"/profile/"+E(aliceID), "", "", 200); p["displayname"] != "Al" {
			t.Errorf("profile: %v", p)
		}
		if d := ts.call(t, "GET", v3+"/directory/room/"+E(alias), "", "", 200); d["room_id"] != room {
			t.Errorf("directory: %v", d)
		}
		if j := ts.call(t, "POST", v3+"/join/"+E(alias), btok, `{}`, 200); j["room_id"] != room {
			t.Errorf("join by alias: %v", j)
		}
		if j := ts.call(t, "POST", v3+"/join/"+E(room), btok, `{}`, 200); j["room_id"] != room {
			t.Errorf("join by ID: %v", j)
		}
		ts.call(t, "PUT", v3+"/user/"+E(aliceID)+"/rooms/"+E(room)+"/account_data/"+E("m.x/y"), atok, `{"v":1}`, 200)
		if a := ts.call(t, "GET", v3+"/user/"+aliceID+"/rooms/"+room+"/account_data/m.x%2Fy", atok, "", 200); a["v"] != float64(1) {
			t.Errorf("account data: %v", a)
		}
		if w := ts.call(t, "GET", v3+"/admin/whois/"+E(aliceID), atok, "", 200); w["user_id"] != aliceID {
			t.Errorf("whois: %v", w)
		}
		ts.call(t, "GET", "/_matrix/client/r0/rooms/"+E(room)+"/state/"+E("m.room.create")+"/", atok, "", 200)
		ts.call(t, "GET", "/_matrix/client/v1/rooms/"+E(room)+"/relations/"+E(ev), atok, "", 200)

		// Per-route middleware keeps a wrong method a 405, not a 404.
		if e := ts.call(t, "DELETE", rooms+"/send/"+E("m.room.message")+"/tx1", atok, "", 405); e["errcode"] != "M_UNRECOGNIZED" {
			t.Errorf("wrong method: %v", e)
		}
	})
}
