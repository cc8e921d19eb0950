package main

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

const slidingPath = "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync"

// ssRoom is the part of a sliding sync room the tests read.
type ssRoom struct {
	Name     string `json:"name"`
	Initial  bool   `json:"initial"`
	Timeline []struct {
		Type    string         `json:"type"`
		Sender  string         `json:"sender"`
		Content map[string]any `json:"content"`
	} `json:"timeline"`
	RequiredState []struct {
		Type     string `json:"type"`
		StateKey string `json:"state_key"`
	} `json:"required_state"`
	InviteState []struct {
		Type     string         `json:"type"`
		StateKey string         `json:"state_key"`
		Content  map[string]any `json:"content"`
	} `json:"invite_state"`
	NumLive     int    `json:"num_live"`
	Limited     bool   `json:"limited"`
	BumpStamp   int64  `json:"bump_stamp"`
	JoinedCount *int64 `json:"joined_count"`
	PrevBatch   string `json:"prev_batch"`
	Expanded    bool   `json:"unstable_expanded_timeline"`
}

type ssResp struct {
	Pos   string `json:"pos"`
	Lists map[string]struct {
		Count int `json:"count"`
	} `json:"lists"`
	Rooms      map[string]ssRoom `json:"rooms"`
	Extensions struct {
		ToDevice *struct {
			NextBatch string           `json:"next_batch"`
			Events    []map[string]any `json:"events"`
		} `json:"to_device"`
		E2EE *struct {
			DeviceLists *struct {
				Changed []string `json:"changed"`
			} `json:"device_lists"`
			OTK map[string]int `json:"device_one_time_keys_count"`
		} `json:"e2ee"`
		AccountData *struct {
			Global []map[string]any `json:"global"`
		} `json:"account_data"`
	} `json:"extensions"`
}

// slide sends one sliding sync request and decodes a 200 answer.
func slide(t *testing.T, ts *testServer, token, pos string, timeoutMS int, body string) ssResp {
	t.Helper()
	q := url.Values{"timeout": {strconv.Itoa(timeoutMS)}}
	if pos != "" {
		q.Set("pos", pos)
	}
	code, data := ts.do(t, "POST", slidingPath+"?"+q.Encode(), token, strings.NewReader(body))
	if code != 200 {
		t.Fatalf("sliding sync: %d %s", code, data)
	}
	var r ssResp
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return r
}

// TestSlidingSyncBadRequests: malformed bodies, ranges, limits and
// positions answer 400 with the exact errcode; a huge range is clamped.
func TestSlidingSyncBadRequests(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		alice := registerClient(t, ts, "alice")
		tok := alice.AccessToken
		if _, err := alice.CreateRoom(context.Background(), &mautrix.ReqCreateRoom{Name: "one"}); err != nil {
			t.Fatal(err)
		}
		manyRanges := `{"lists":{"a":{"ranges":[` + strings.Repeat(`[0,1],`, 64) + `[0,1]]}}}`
		cases := []struct {
			name, query, body string
			status            int
			errcode           string
		}{
			{"not JSON", "", `{`, 400, "M_NOT_JSON"},
			{"array body", "", `[]`, 400, "M_NOT_JSON"},
			{"ranges wrong type", "", `{"lists":{"a":{"ranges":"x"}}}`, 400, "M_BAD_JSON"},
			{"fractional range", "", `{"lists":{"a":{"ranges":[[0,1.5]]}}}`, 400, "M_BAD_JSON"},
			{"range end before start", "", `{"lists":{"a":{"ranges":[[5,1]]}}}`, 400, "M_INVALID_PARAM"},
			{"negative range", "", `{"lists":{"a":{"ranges":[[-1,3]]}}}`, 400, "M_INVALID_PARAM"},
			{"range of one", "", `{"lists":{"a":{"ranges":[[0]]}}}`, 400, "M_INVALID_PARAM"},
			{"too many ranges", "", manyRanges, 400, "M_INVALID_PARAM"},
			{"negative timeline_limit", "", `{"lists":{"a":{"ranges":[[0,1]],"timeline_limit":-1}}}`, 400, "M_INVALID_PARAM"},
			{"required_state of one", "", `{"lists":{"a":{"required_state":[["m.room.name"]]}}}`, 400, "M_INVALID_PARAM"},
			{"subscription not a room", "", `{"room_subscriptions":{"nope":{}}}`, 400, "M_INVALID_PARAM"},
			{"conn_id wrong type", "", `{"conn_id":5}`, 400, "M_BAD_JSON"},
			{"unknown pos", "?pos=deadbeef_1", `{}`, 400, "M_UNKNOWN_POS"},
			{"garbage pos", "?pos=garbage", `{}`, 400, "M_UNKNOWN_POS"},
			{"bad timeout", "?timeout=soon", `{}`, 400, "M_INVALID_PARAM"},
			{"bad set_presence", "?set_presence=away", `{}`, 400, "M_INVALID_PARAM"},
			{"bad to_device since", "", `{"extensions":{"to_device":{"enabled":true,"since":"x"}}}`, 400, "M_INVALID_PARAM"},
			{"to_device since ahead", "", `{"extensions":{"to_device":{"enabled":true,"since":"999999"}}}`, 400, "M_INVALID_PARAM"},
			{"negative to_device limit", "", `{"extensions":{"to_device":{"enabled":true,"limit":-1}}}`, 400, "M_INVALID_PARAM"},
			{"to_device limit wrong type", "", `{"extensions":{"to_device":{"enabled":true,"limit":"10"}}}`, 400, "M_BAD_JSON"},
			{"tags wrong type", "", `{"lists":{"a":{"filters":{"tags":"m.favourite"}}}}`, 400, "M_BAD_JSON"},
			{"is_tombstoned wrong type", "", `{"lists":{"a":{"filters":{"is_tombstoned":"yes"}}}}`, 400, "M_BAD_JSON"},
			{"spaces not room IDs", "", `{"lists":{"a":{"filters":{"spaces":["nope"]}}}}`, 400, "M_INVALID_PARAM"},
			{"too many tags", "", `{"lists":{"a":{"filters":{"tags":[` + strings.Repeat(`"t",`, 256) + `"t"]}}}}`, 400, "M_INVALID_PARAM"},
		}
		for _, c := range cases {
			code, body := ts.do(t, "POST", slidingPath+c.query, tok, strings.NewReader(c.body))
			if code != c.status || decode(t, body)["errcode"] != c.errcode {
				t.Errorf("%s: %d %s, want %d %s", c.name, code, body, c.status, c.errcode)
			}
		}
		if code, body := ts.do(t, "POST", slidingPath, "", strings.NewReader(`{}`)); code != 401 || decode(t, body)["errcode"] != "M_MISSING_TOKEN" {
			t.Errorf("no token: %d %s", code, body)
		}
		// A huge range is clamped to the list.
		r := slide(t, ts, tok, "", 0, `{"lists":{"a":{"ranges":[[0,9007199254740991]],"timeline_limit":1}}}`)
		if r.Lists["a"].Count != 1 || len(r.Rooms) != 1 {
			t.Errorf("huge range: %+v", r)
		}
		// A pos belongs to its connection: another conn_id does not know it.
		if code, body := ts.do(t, "POST", slidingPath+"?pos="+r.Pos, tok, strings.NewReader(`{"conn_id":"other"}`)); code != 400 || decode(t, body)["errcode"] != "M_UNKNOWN_POS" {
			t.Errorf("pos of another connection: %d %s", code, body)
		}
		// Restarting the connection forgets its old positions.
		slide(t, ts, tok, "", 0, `{}`)
		if code, body := ts.do(t, "POST", slidingPath+"?pos="+r.Pos, tok, strings.NewReader(`{}`)); code != 400 || decode(t, body)["errcode"] != "M_UNKNOWN_POS" {
			t.Errorf("pos of a replaced connection: %d %s", code, body)
		}
		code, body := ts.do(t, "GET", "/_matrix/client/versions", "", nil)
		if code != 200 || !strings.Contains(string(body), `"org.matrix.simplified_msc3575":true`) {
			t.Errorf("versions: %d %s", code, body)
		}
	})
}

// listBody is a list of the newest room only and one of every room.
const listBody = `{"lists":{"top":{"ranges":[[0,0]],"timeline_limit":5,"required_state":[["m.room.name",""],["m.room.member","$LAZY"]]},
"all":{"ranges":[[0,99]],"timeline_limit":5,"required_state":[["m.room.name",""],["m.room.member","$LAZY"]]},
"invites":{"ranges":[[0,9]],"timeline_limit":0,"filters":{"is_invite":true}}}}`

// TestSlidingSyncLists: lists follow recency, incremental responses carry
// only the rooms that changed, a parked request wakes on a message, and an
// invite appears with its invite_state.
func TestSlidingSyncLists(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
		var rooms []id.RoomID
		for _, name := range []string{"A", "B", "C"} {
			r, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			rooms = append(rooms, r.RoomID)
		}
		a, b, c := rooms[0], rooms[1], rooms[2]
		r := slide(t, ts, alice.AccessToken, "", 0, listBody)
		if r.Lists["all"].Count != 3 || r.Lists["top"].Count != 3 || r.Lists["invites"].Count != 0 || len(r.Rooms) != 3 {
			t.Fatalf("initial: %+v", r)
		}
		if got := r.Rooms[c.String()]; !got.Initial || got.Name != "C" || len(got.Timeline) == 0 || got.JoinedCount == nil || *got.JoinedCount != 1 {
			t.Errorf("initial room C: %+v", got)
		}
		if !(r.Rooms[c.String()].BumpStamp > r.Rooms[b.String()].BumpStamp && r.Rooms[b.String()].BumpStamp > r.Rooms[a.String()].BumpStamp) {
			t.Errorf("bump stamps not by recency: %+v", r.Rooms)
		}
		if rs := r.Rooms[c.String()].RequiredState; !slices.ContainsFunc(rs, func(s struct {
			Type     string `json:"type"`
			StateKey string `json:"state_key"`
		}) bool {
			return s.Type == "m.room.name"
		}) {
			t.Errorf("required_state lacks m.room.name: %+v", rs)
		}

		// A message in A makes it the newest room: only A comes down, once.
		if _, err := alice.SendText(ctx, a, "hello A"); err != nil {
			t.Fatal(err)
		}
		r2 := slide(t, ts, alice.AccessToken, r.Pos, 0, listBody)
		if len(r2.Rooms) != 1 || r2.Rooms[a.String()].Initial || r2.Rooms[a.String()].NumLive != 1 ||
			len(r2.Rooms[a.String()].Timeline) != 1 || r2.Rooms[a.String()].Timeline[0].Content["body"] != "hello A" {
			t.Fatalf("after a message in A: %+v", r2.Rooms)
		}
		if r2.Rooms[a.String()].BumpStamp <= r.Rooms[c.String()].BumpStamp {
			t.Errorf("A's bump stamp did not move past C's")
		}
		// Nothing new: an idle long-poll answers empty after its timeout.
		t0 := time.Now()
		r3 := slide(t, ts, alice.AccessToken, r2.Pos, 300, listBody)
		if len(r3.Rooms) != 0 || time.Since(t0) < 250*time.Millisecond {
			t.Errorf("idle poll: %v %+v", time.Since(t0), r3.Rooms)
		}
		// The previous pos still answers (a client retrying a lost
		// response); the answer it lost is then forgotten.
		rr := slide(t, ts, alice.AccessToken, r2.Pos, 0, listBody)
		if len(rr.Rooms) != 0 {
			t.Errorf("retried pos: %+v", rr.Rooms)
		}
		if code, body := ts.do(t, "POST", slidingPath+"?pos="+r3.Pos, alice.AccessToken, strings.NewReader(listBody)); code != 400 || decode(t, body)["errcode"] != "M_UNKNOWN_POS" {
			t.Errorf("superseded pos: %d %s", code, body)
		}

		// A parked request wakes when a message arrives in B.
		done := make(chan []byte, 1)
		go func() {
			_, body := ts.do(t, "POST", slidingPath+"?timeout=20000&pos="+rr.Pos, alice.AccessToken, strings.NewReader(listBody))
			done <- body
		}()
		time.Sleep(200 * time.Millisecond)
		t1 := time.Now()
		if _, err := alice.SendText(ctx, b, "wake"); err != nil {
			t.Fatal(err)
		}
		var r4 ssResp
		select {
		case body := <-done:
			if err := json.Unmarshal(body, &r4); err != nil {
				t.Fatalf("woken response %s: %v", body, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("parked sliding sync did not wake")
		}
		if time.Since(t1) > 5*time.Second || len(r4.Rooms) != 1 || len(r4.Rooms[b.String()].Timeline) != 1 {
			t.Fatalf("woken response: %+v", r4.Rooms)
		}

		// Bob invites alice: the invite comes with its stripped state and
		// fills the invites list.
		d, err := bob.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "D", Invite: []id.UserID{alice.UserID}})
		if err != nil {
			t.Fatal(err)
		}
		r5 := slide(t, ts, alice.AccessToken, r4.Pos, 5000, listBody)
		inv := r5.Rooms[d.RoomID.String()]
		if r5.Lists["invites"].Count != 1 || !inv.Initial || len(inv.Timeline) != 0 ||
			!slices.ContainsFunc(inv.InviteState, func(s struct {
				Type     string         `json:"type"`
				StateKey string         `json:"state_key"`
				Content  map[string]any `json:"content"`
			}) bool {
				return s.Type == "m.room.member" && s.StateKey == alice.UserID.String() && s.Content["membership"] == "invite"
			}) {
			t.Fatalf("invite: %+v lists %+v", inv, r5.Lists)
		}
		// Joining turns it into a joined room, sent afresh.
		if _, err := alice.JoinRoomByID(ctx, d.RoomID); err != nil {
			t.Fatal(err)
		}
		r6 := slide(t, ts, alice.AccessToken, r5.Pos, 5000, listBody)
		if j := r6.Rooms[d.RoomID.String()]; !j.Initial || len(j.InviteState) != 0 || j.JoinedCount == nil || *j.JoinedCount != 2 || r6.Lists["invites"].Count != 0 {
			t.Fatalf("after join: %+v lists %+v", j, r6.Lists)
		}
	})
}

// TestSlidingSyncExtensions: to-device messages are delivered once and
// acknowledged by next_batch; a user who starts sharing an encrypted room
// shows in e2ee.device_lists.changed.
func TestSlidingSyncExtensions(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
		const ext = `{"extensions":{"to_device":{"enabled":true%s},"e2ee":{"enabled":true},"account_data":{"enabled":true}}}`
		r := slide(t, ts, alice.AccessToken, "", 0, strings.Replace(ext, "%s", "", 1))
		if r.Extensions.ToDevice == nil || len(r.Extensions.ToDevice.Events) != 0 || r.Extensions.E2EE == nil || r.Extensions.E2EE.OTK == nil {
			t.Fatalf("initial extensions: %+v", r.Extensions)
		}
		_, err := bob.SendToDevice(ctx, event.NewEventType("org.example.ping"), &mautrix.ReqSendToDevice{
			Messages: map[id.UserID]map[id.DeviceID]*event.Content{alice.UserID: {alice.DeviceID: {Raw: map[string]any{"n": 1}}}}})
		if err != nil {
			t.Fatal(err)
		}
		since := func(s string) string { return strings.Replace(ext, "%s", `,"since":"`+s+`"`, 1) }
		r2 := slide(t, ts, alice.AccessToken, r.Pos, 5000, since(r.Extensions.ToDevice.NextBatch))
		td := r2.Extensions.ToDevice
		if td == nil || len(td.Events) != 1 || td.Events[0]["type"] != "org.example.ping" || td.Events[0]["sender"] != bob.UserID.String() {
			t.Fatalf("to-device: %+v", td)
		}
		// Acknowledged with next_batch: never again, even to a new connection.
		r3 := slide(t, ts, alice.AccessToken, r2.Pos, 0, since(td.NextBatch))
		fresh := slide(t, ts, alice.AccessToken, "", 0, `{"conn_id":"fresh","extensions":{"to_device":{"enabled":true}}}`)
		if len(r3.Extensions.ToDevice.Events) != 0 || len(fresh.Extensions.ToDevice.Events) != 0 {
			t.Fatalf("to-device delivered again: %+v / %+v", r3.Extensions.ToDevice, fresh.Extensions.ToDevice)
		}

		// Bob joins an encrypted room of alice's: she must track his devices.
		room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Invite: []id.UserID{bob.UserID},
			InitialState: []*event.Event{{Type: event.StateEncryption, StateKey: new(string),
				Content: event.Content{Raw: map[string]any{"algorithm": "m.megolm.v1.aes-sha2"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		r4 := slide(t, ts, alice.AccessToken, r3.Pos, 0, since(td.NextBatch))
		if _, err := bob.JoinRoomByID(ctx, room.RoomID); err != nil {
			t.Fatal(err)
		}
		slidingEphemeral(t, ts, alice, bob, room.RoomID)
		deadline := time.Now().Add(5 * time.Second)
		pos := r4.Pos
		for {
			r5 := slide(t, ts, alice.AccessToken, pos, 2000, since(td.NextBatch))
			if dl := r5.Extensions.E2EE.DeviceLists; dl != nil && slices.Contains(dl.Changed, bob.UserID.String()) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("bob's device change never showed: %+v", r5.Extensions.E2EE)
			}
			pos = r5.Pos
		}
	})
}

// slidingEphemeral: bob's typing and read receipt in room reach alice through the
// typing and receipts extensions of the list holding the room.
func slidingEphemeral(t *testing.T, ts *testServer, alice, bob *mautrix.Client, room id.RoomID) {
	t.Helper()
	ctx := context.Background()
	const body = `{"conn_id":"eph","lists":{"l":{"ranges":[[0,9]],"timeline_limit":1}},
"extensions":{"receipts":{"enabled":true},"typing":{"enabled":true,"lists":["l"]}}}`
	r := slide(t, ts, alice.AccessToken, "", 0, body)
	sent, err := bob.SendText(ctx, room, "read me")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.UserTyping(ctx, room, true, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := bob.SendReceipt(ctx, room, sent.EventID, event.ReceiptTypeRead, nil); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Extensions struct {
			Receipts struct {
				Rooms map[string]map[string]any `json:"rooms"`
			} `json:"receipts"`
			Typing struct {
				Rooms map[string]struct {
					Content struct {
						UserIDs []string `json:"user_ids"`
					} `json:"content"`
				} `json:"rooms"`
			} `json:"typing"`
		} `json:"extensions"`
		Rooms map[string]struct {
			NotificationCount int64 `json:"notification_count"`
			Timeline          []any `json:"timeline"`
		} `json:"rooms"`
		Pos string `json:"pos"`
	}
	pos, counted := r.Pos, false
	for deadline := time.Now().Add(5 * time.Second); ; {
		code, data := ts.do(t, "POST", slidingPath+"?timeout=2000&pos="+url.QueryEscape(pos), alice.AccessToken, strings.NewReader(body))
		if code != 200 || json.Unmarshal(data, &raw) != nil {
			t.Fatalf("sliding sync: %d %s", code, data)
		}
		typing := raw.Extensions.Typing.Rooms[room.String()].Content.UserIDs
		receipt, _ := json.Marshal(raw.Extensions.Receipts.Rooms[room.String()])
		counted = counted || raw.Rooms[room.String()].NotificationCount == 1
		if counted && slices.Contains(typing, bob.UserID.String()) && strings.Contains(string(receipt), sent.EventID.String()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("typing %v / receipt %s / count %v never came", typing, receipt, counted)
		}
		pos = raw.Pos
	}
	// Alice reads bob's message: the room comes again, with no new
	// events, for its notification count to drop.
	if err := alice.SendReceipt(ctx, room, sent.EventID, event.ReceiptTypeRead, nil); err != nil {
		t.Fatal(err)
	}
	code, data := ts.do(t, "POST", slidingPath+"?timeout=5000&pos="+url.QueryEscape(raw.Pos), alice.AccessToken, strings.NewReader(body))
	raw.Rooms = nil
	if code != 200 || json.Unmarshal(data, &raw) != nil {
		t.Fatalf("sliding sync: %d %s", code, data)
	}
	if got, ok := raw.Rooms[room.String()]; !ok || got.NotificationCount != 0 || len(got.Timeline) != 0 {
		t.Fatalf("after reading: %s", data)
	}
}
