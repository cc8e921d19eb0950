package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/kabarchat/kabar/configs"
)

// jsonDo sends a raw JSON request and decodes the answer into out (if any).
func jsonDo(t *testing.T, ts *testServer, method, path, token, body string, out any) int {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	status, data := ts.do(t, method, path, token, r)
	if out != nil && status == http.StatusOK {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return status
}

type ruleIDs struct {
	Global map[string][]struct {
		RuleID  string `json:"rule_id"`
		Enabled bool   `json:"enabled"`
		Default bool   `json:"default"`
	} `json:"global"`
}

func (r ruleIDs) ids(kind string) []string {
	var out []string
	for _, x := range r.Global[kind] {
		out = append(out, x.RuleID)
	}
	return out
}

// TestPushRulesDefaultsAndCRUD: the spec's default rules in order, user
// rules with before/after, enabled/actions, and the bad-input table.
func TestPushRulesDefaultsAndCRUD(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		alice := registerClient(t, ts, "alice")
		tok := alice.AccessToken
		var rs ruleIDs
		if st := jsonDo(t, ts, "GET", "/_matrix/client/v3/pushrules/", tok, "", &rs); st != 200 {
			t.Fatalf("GET /pushrules/: %d", st)
		}
		wantOverride := []string{".m.rule.master", ".m.rule.suppress_notices", ".m.rule.invite_for_me", ".m.rule.member_event",
			".m.rule.is_user_mention", ".m.rule.is_room_mention", ".m.rule.tombstone", ".m.rule.reaction",
			".m.rule.room.server_acl", ".m.rule.suppress_edits"}
		wantUnderride := []string{".m.rule.call", ".m.rule.encrypted_room_one_to_one", ".m.rule.room_one_to_one", ".m.rule.message", ".m.rule.encrypted"}
		if !slices.Equal(rs.ids("override"), wantOverride) || !slices.Equal(rs.ids("underride"), wantUnderride) || len(rs.ids("content")) != 0 {
			t.Fatalf("defaults: override %v underride %v content %v", rs.ids("override"), rs.ids("underride"), rs.ids("content"))
		}

		// A user who never changed a rule still gets m.push_rules in /sync.
		first, err := alice.SyncRequest(context.Background(), 0, "", "", false, "")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(first.AccountData.Events, func(ev *event.Event) bool { return ev.Type.Type == "m.push_rules" }) {
			t.Error("initial sync lacks m.push_rules")
		}

		base := "/_matrix/client/v3/pushrules/global/override/"
		rule := `{"actions":["notify"],"conditions":[{"kind":"event_match","key":"content.body","pattern":"cake"}]}`
		for _, step := range []struct{ id, query string }{{"a", ""}, {"b", "?before=a"}, {"c", "?after=a"}} {
			if st := jsonDo(t, ts, "PUT", base+step.id+step.query, tok, rule, nil); st != 200 {
				t.Fatalf("PUT %s: %d", step.id, st)
			}
		}
		jsonDo(t, ts, "GET", "/_matrix/client/v3/pushrules/", tok, "", &rs)
		if got := rs.ids("override")[:4]; !slices.Equal(got, []string{".m.rule.master", "b", "a", "c"}) {
			t.Fatalf("order after before/after: %v", got)
		}
		if st := jsonDo(t, ts, "PUT", base+"a/enabled", tok, `{"enabled":false}`, nil); st != 200 {
			t.Fatalf("disable: %d", st)
		}
		var en struct{ Enabled bool }
		if jsonDo(t, ts, "GET", base+"a/enabled", tok, "", &en); en.Enabled {
			t.Error("rule a still enabled")
		}
		if st := jsonDo(t, ts, "PUT", "/_matrix/client/v3/pushrules/global/underride/.m.rule.message/actions", tok, `{"actions":[]}`, nil); st != 200 {
			t.Fatalf("set default actions: %d", st)
		}
		var act struct{ Actions []any }
		if jsonDo(t, ts, "GET", "/_matrix/client/v3/pushrules/global/underride/.m.rule.message/actions", tok, "", &act); len(act.Actions) != 0 {
			t.Errorf("default rule actions = %v", act.Actions)
		}
		if st := jsonDo(t, ts, "DELETE", base+"b", tok, "", nil); st != 200 {
			t.Fatalf("delete: %d", st)
		}
		// m.push_rules in /sync reflects the change.
		resp, err := alice.SyncRequest(context.Background(), 0, "", "", false, "")
		if err != nil {
			t.Fatal(err)
		}
		var pushRules bool
		for _, ev := range resp.AccountData.Events {
			if ev.Type.Type == "m.push_rules" {
				raw, _ := json.Marshal(ev.Content.Raw)
				pushRules = strings.Contains(string(raw), `"rule_id":"a"`) && !strings.Contains(string(raw), `"rule_id":"b"`)
			}
		}
		if !pushRules {
			t.Error("m.push_rules account data missing or stale in /sync")
		}

		cases := []struct {
			name, method, path, body string
			status                   int
			errcode                  string
		}{
			{"unknown kind", "PUT", "/_matrix/client/v3/pushrules/global/nope/x", rule, 400, "M_INVALID_PARAM"},
			{"unknown scope", "GET", "/_matrix/client/v3/pushrules/device/override/a", "", 400, "M_INVALID_PARAM"},
			{"unknown rule", "GET", base + "zzz", "", 404, "M_NOT_FOUND"},
			{"unknown rule enabled", "PUT", base + "zzz/enabled", `{"enabled":true}`, 404, "M_NOT_FOUND"},
			{"delete unknown", "DELETE", base + "zzz", "", 404, "M_NOT_FOUND"},
			{"delete default", "DELETE", base + ".m.rule.master", "", 400, "M_INVALID_PARAM"},
			{"put default id", "PUT", base + ".m.rule.mine", rule, 400, "M_INVALID_PARAM"},
			{"bad condition", "PUT", base + "x", `{"actions":["notify"],"conditions":[{"kind":"event_match","key":"type"}]}`, 400, "M_BAD_JSON"},
			{"bad member count", "PUT", base + "x", `{"actions":["notify"],"conditions":[{"kind":"room_member_count","is":">>2"}]}`, 400, "M_BAD_JSON"},
			{"compound value", "PUT", base + "x", `{"actions":["notify"],"conditions":[{"kind":"event_property_is","key":"a","value":{}}]}`, 400, "M_BAD_JSON"},
			{"no actions", "PUT", base + "x", `{"conditions":[]}`, 400, "M_BAD_JSON"},
			{"bad action", "PUT", base + "x", `{"actions":[{"value":1}]}`, 400, "M_BAD_JSON"},
			{"content without pattern", "PUT", "/_matrix/client/v3/pushrules/global/content/x", `{"actions":["notify"]}`, 400, "M_BAD_JSON"},
			{"room rule not room", "PUT", "/_matrix/client/v3/pushrules/global/room/x", `{"actions":["notify"]}`, 400, "M_INVALID_PARAM"},
			{"before unknown", "PUT", base + "x?before=zzz", rule, 404, "M_NOT_FOUND"},
			{"not json", "PUT", base + "x", `{`, 400, "M_NOT_JSON"},
			{"enabled missing", "PUT", base + "a/enabled", `{}`, 400, "M_BAD_JSON"},
			{"no auth", "GET", "/_matrix/client/v3/pushrules/", "", 401, "M_MISSING_TOKEN"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				token := tok
				if tc.name == "no auth" {
					token = ""
				}
				var r io.Reader
				if tc.body != "" {
					r = strings.NewReader(tc.body)
				}
				status, data := ts.do(t, tc.method, tc.path, token, r)
				var e struct{ Errcode string }
				json.Unmarshal(data, &e)
				if status != tc.status || e.Errcode != tc.errcode {
					t.Errorf("got %d %s, want %d %s: %s", status, e.Errcode, tc.status, tc.errcode, data)
				}
			})
		}
	})
}

type unread struct {
	N, H int64
}

// unreadIn reads rooms.join.{room}.unread_notifications from a sync.
func unreadIn(t *testing.T, ts *testServer, token, since string, room id.RoomID) (unread, string) {
	t.Helper()
	path := "/_matrix/client/v3/sync?timeout=0"
	if since != "" {
		path += "&timeout=3000&since=" + since
	}
	var resp struct {
		NextBatch string `json:"next_batch"`
		Rooms     struct {
			Join map[string]struct {
				Unread *struct {
					N int64 `json:"notification_count"`
					H int64 `json:"highlight_count"`
				} `json:"unread_notifications"`
			}
		}
	}
	if st := jsonDo(t, ts, "GET", path, token, "", &resp); st != 200 {
		t.Fatalf("sync: %d", st)
	}
	jr, ok := resp.Rooms.Join[room.String()]
	if !ok || jr.Unread == nil {
		t.Fatalf("no unread_notifications for %s", room)
	}
	return unread{jr.Unread.N, jr.Unread.H}, resp.NextBatch
}

// TestPushCounts: a DM message notifies, a mention highlights, both show
// in /sync and /notifications, and a read receipt resets the counts.
func TestPushCounts(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
		room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", IsDirect: true, Invite: []id.UserID{bob.UserID}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bob.JoinRoom(ctx, room.RoomID.String(), nil); err != nil {
			t.Fatal(err)
		}
		_, since := unreadIn(t, ts, bob.AccessToken, "", room.RoomID)
		if _, err := alice.SendText(ctx, room.RoomID, "hello bob"); err != nil {
			t.Fatal(err)
		}
		got, since := unreadIn(t, ts, bob.AccessToken, since, room.RoomID)
		if got != (unread{1, 0}) {
			t.Fatalf("after DM message: %+v, want 1/0", got)
		}
		mention, err := alice.SendMessageEvent(ctx, room.RoomID, event.EventMessage, map[string]any{
			"msgtype": "m.text", "body": "bob: look", "m.mentions": map[string]any{"user_ids": []string{bob.UserID.String()}},
		})
		if err != nil {
			t.Fatal(err)
		}
		got, since = unreadIn(t, ts, bob.AccessToken, since, room.RoomID)
		if got != (unread{2, 1}) {
			t.Fatalf("after mention: %+v, want 2/1", got)
		}
		// Alice's own messages never count for her.
		if mine, _ := unreadIn(t, ts, alice.AccessToken, "", room.RoomID); mine != (unread{}) {
			t.Errorf("sender's own counts: %+v", mine)
		}
		var list struct {
			Notifications []struct {
				Read   bool   `json:"read"`
				RoomID string `json:"room_id"`
				Event  struct {
					EventID string `json:"event_id"`
				} `json:"event"`
			} `json:"notifications"`
		}
		// The invite (.m.rule.invite_for_me) is listed too, read since bob joined.
		jsonDo(t, ts, "GET", "/_matrix/client/v3/notifications", bob.AccessToken, "", &list)
		if len(list.Notifications) != 3 || list.Notifications[0].Event.EventID != mention.EventID.String() || list.Notifications[0].Read || !list.Notifications[2].Read {
			t.Fatalf("/notifications: %+v", list)
		}
		jsonDo(t, ts, "GET", "/_matrix/client/v3/notifications?only=highlight", bob.AccessToken, "", &list)
		if len(list.Notifications) != 1 {
			t.Fatalf("/notifications?only=highlight: %+v", list)
		}
		if st := jsonDo(t, ts, "GET", "/_matrix/client/v3/notifications?limit=x", bob.AccessToken, "", nil); st != 400 {
			t.Errorf("bad limit: %d", st)
		}
		if err := bob.SendReceipt(ctx, room.RoomID, mention.EventID, event.ReceiptTypeRead, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ = unreadIn(t, ts, bob.AccessToken, since, room.RoomID); got != (unread{}) {
			t.Fatalf("after read receipt: %+v, want 0/0", got)
		}
		jsonDo(t, ts, "GET", "/_matrix/client/v3/notifications", bob.AccessToken, "", &list)
		if len(list.Notifications) != 3 || !list.Notifications[0].Read {
			t.Errorf("/notifications after receipt: %+v", list)
		}

		// Threads: with unread_thread_notifications a thread reply counts
		// in its thread, and a threaded receipt resets only that thread.
		reply, err := alice.SendMessageEvent(ctx, room.RoomID, event.EventMessage, map[string]any{
			"msgtype": "m.text", "body": "in thread", "m.relates_to": map[string]any{"rel_type": "m.thread", "event_id": mention.EventID.String()},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := alice.SendText(ctx, room.RoomID, "main again"); err != nil {
			t.Fatal(err)
		}
		threaded := func() (map[string]any, map[string]any) {
			var resp struct {
				Rooms struct {
					Join map[string]struct {
						Unread  map[string]any            `json:"unread_notifications"`
						Threads map[string]map[string]any `json:"unread_thread_notifications"`
					}
				}
			}
			filter := `{"room":{"timeline":{"unread_thread_notifications":true}}}`
			jsonDo(t, ts, "GET", "/_matrix/client/v3/sync?filter="+url.QueryEscape(filter), bob.AccessToken, "", &resp)
			jr := resp.Rooms.Join[room.RoomID.String()]
			return jr.Unread, jr.Threads[mention.EventID.String()]
		}
		main, thread := threaded()
		if main["notification_count"] != 1.0 || thread["notification_count"] != 1.0 {
			t.Fatalf("threaded counts: main %v thread %v", main, thread)
		}
		receipt := "/_matrix/client/v3/rooms/" + url.PathEscape(room.RoomID.String()) + "/receipt/m.read/" + url.PathEscape(reply.EventID.String())
		if st := jsonDo(t, ts, "POST", receipt, bob.AccessToken, `{"thread_id":"`+mention.EventID.String()+`"}`, nil); st != 200 {
			t.Fatalf("threaded receipt: %d", st)
		}
		if main, thread = threaded(); main["notification_count"] != 1.0 || thread != nil {
			t.Errorf("after thread receipt: main %v thread %v", main, thread)
		}
	})
}

// gateway is a local push gateway recording notifications.
type gateway struct {
	mu       sync.Mutex
	got      []map[string]any
	rejected []string
	arrived  chan struct{}
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/_matrix/push/v1/notify" {
		http.NotFound(w, r)
		return
	}
	var body struct {
		Notification map[string]any `json:"notification"`
	}
	json.NewDecoder(r.Body).Decode(&body)
	g.mu.Lock()
	g.got = append(g.got, body.Notification)
	rejected := g.rejected
	g.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{"rejected": rejected})
	g.arrived <- struct{}{}
}

func allowLoopbackPush(c *configs.Config) {
	openRegistration(c)
	c.Push.OutboundAllowNetworks = []string{"127.0.0.0/8"}
}

// TestPushers: pusher CRUD and validation; delivery to a local gateway in
// event_id_only format; a rejected pushkey drops the pusher; a dead
// gateway never slows sends.
func TestPushers(t *testing.T) {
	eachServer(t, allowLoopbackPush, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		gw := &gateway{arrived: make(chan struct{}, 16)}
		srv := httptest.NewServer(gw)
		defer srv.Close()
		alice, bob := registerClient(t, ts, "alice"), registerClient(t, ts, "bob")
		pusher := `{"kind":"http","app_id":"org.example.app","pushkey":"key1","app_display_name":"App","device_display_name":"Phone","lang":"en",
			"data":{"url":"` + srv.URL + `/_matrix/push/v1/notify","format":"event_id_only"}}`
		if st := jsonDo(t, ts, "POST", "/_matrix/client/v3/pushers/set", bob.AccessToken, pusher, nil); st != 200 {
			t.Fatalf("set pusher: %d", st)
		}
		var list struct {
			Pushers []map[string]any `json:"pushers"`
		}
		jsonDo(t, ts, "GET", "/_matrix/client/v3/pushers", bob.AccessToken, "", &list)
		if len(list.Pushers) != 1 || list.Pushers[0]["pushkey"] != "key1" {
			t.Fatalf("pushers: %+v", list)
		}
		room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bob.UserID}})
		if err != nil {
			t.Fatal(err)
		}
		<-gw.arrived // the invite (.m.rule.invite_for_me)
		if _, err := bob.JoinRoom(ctx, room.RoomID.String(), nil); err != nil {
			t.Fatal(err)
		}
		sent, err := alice.SendText(ctx, room.RoomID, "ping")
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-gw.arrived:
		case <-time.After(5 * time.Second):
			t.Fatal("gateway got nothing")
		}
		gw.mu.Lock()
		n := gw.got[len(gw.got)-1]
		gw.rejected = []string{"key1"}
		gw.mu.Unlock()
		if n["event_id"] != sent.EventID.String() || n["room_id"] != room.RoomID.String() || n["content"] != nil {
			t.Errorf("notification: %+v", n)
		}
		if devs, _ := n["devices"].([]any); len(devs) != 1 || devs[0].(map[string]any)["pushkey"] != "key1" {
			t.Errorf("devices: %+v", n["devices"])
		}
		// The gateway now rejects key1: the pusher goes.
		if _, err := alice.SendText(ctx, room.RoomID, "again"); err != nil {
			t.Fatal(err)
		}
		<-gw.arrived
		deadline := time.Now().Add(5 * time.Second)
		for {
			jsonDo(t, ts, "GET", "/_matrix/client/v3/pushers", bob.AccessToken, "", &list)
			if len(list.Pushers) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("rejected pusher not removed")
			}
			time.Sleep(20 * time.Millisecond)
		}

		// A dead gateway never blocks sends.
		dead := httptest.NewServer(http.NotFoundHandler())
		deadURL := dead.URL
		dead.Close()
		deadPusher := strings.Replace(pusher, srv.URL, deadURL, 1)
		if st := jsonDo(t, ts, "POST", "/_matrix/client/v3/pushers/set", bob.AccessToken, deadPusher, nil); st != 200 {
			t.Fatalf("set dead pusher: %d", st)
		}
		start := time.Now()
		for i := range 20 {
			if _, err := alice.SendText(ctx, room.RoomID, "msg "+string(rune('a'+i))); err != nil {
				t.Fatal(err)
			}
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("20 sends with a dead gateway took %v", took)
		}
		// Deleting with kind null.
		del := `{"kind":null,"app_id":"org.example.app","pushkey":"key1"}`
		if st := jsonDo(t, ts, "POST", "/_matrix/client/v3/pushers/set", bob.AccessToken, del, nil); st != 200 {
			t.Fatalf("delete pusher: %d", st)
		}
		jsonDo(t, ts, "GET", "/_matrix/client/v3/pushers", bob.AccessToken, "", &list)
		if len(list.Pushers) != 0 {
			t.Errorf("pusher not deleted: %+v", list)
		}

		bad := []struct {
			name, body, errcode string
			status              int
		}{
			{"wrong path", strings.Replace(pusher, "/_matrix/push/v1/notify", "/notify", 1), "M_INVALID_PARAM", 400},
			{"no url", `{"kind":"http","app_id":"a","pushkey":"k","app_display_name":"A","device_display_name":"D","lang":"en","data":{}}`, "M_MISSING_PARAM", 400},
			{"no app_id", `{"kind":"http","pushkey":"k","app_display_name":"A","device_display_name":"D","lang":"en","data":{"url":"https://x/_matrix/push/v1/notify"}}`, "M_MISSING_PARAM", 400},
			{"unknown kind", strings.Replace(pusher, `"kind":"http"`, `"kind":"carrier-pigeon"`, 1), "M_INVALID_PARAM", 400},
			{"not http url", strings.Replace(pusher, srv.URL, "ftp://x", 1), "M_INVALID_PARAM", 400},
			{"bad json", `{"kind":`, "M_NOT_JSON", 400},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				status, data := ts.do(t, "POST", "/_matrix/client/v3/pushers/set", bob.AccessToken, strings.NewReader(tc.body))
				var e struct{ Errcode string }
				json.Unmarshal(data, &e)
				if status != tc.status || e.Errcode != tc.errcode {
					t.Errorf("got %d %s, want %d %s: %s", status, e.Errcode, tc.status, tc.errcode, data)
				}
			})
		}
	})
}
