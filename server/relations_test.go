package main

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// relEvent is the part of a served event the relation tests read.
type relEvent struct {
	EventID  string `json:"event_id"`
	Unsigned struct {
		Relations *struct {
			Thread *struct {
				LatestEvent struct {
					EventID string `json:"event_id"`
				} `json:"latest_event"`
				Count                   int  `json:"count"`
				CurrentUserParticipated bool `json:"current_user_participated"`
			} `json:"m.thread"`
			Replace *struct {
				EventID string          `json:"event_id"`
				Sender  string          `json:"sender"`
				Content json.RawMessage `json:"content"`
			} `json:"m.replace"`
			Reference *struct {
				Chunk []struct {
					EventID string `json:"event_id"`
				} `json:"chunk"`
			} `json:"m.reference"`
		} `json:"m.relations"`
	} `json:"unsigned"`
}

type relPage struct {
	Chunk     []relEvent `json:"chunk"`
	NextBatch string     `json:"next_batch"`
}

func sendRel(t *testing.T, cli *mautrix.Client, room id.RoomID, typ event.Type, content map[string]any) id.EventID {
	t.Helper()
	resp, err := cli.SendMessageEvent(context.Background(), room, typ, content)
	if err != nil {
		t.Fatalf("send %s: %v", typ.Type, err)
	}
	return resp.EventID
}

func relatesTo(rel string, to id.EventID) map[string]any {
	return map[string]any{"rel_type": rel, "event_id": to.String()}
}

func relGet(t *testing.T, ts *testServer, path, token string, out any) {
	t.Helper()
	code, body := ts.do(t, "GET", path, token, nil)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// relFixture is a room with a root message that has a reaction, edits
// (two valid by the sender, one by someone else), a thread and a reference.
type relFixture struct {
	alice, bob, carol *mautrix.Client
	room              id.RoomID
	root, reaction    id.EventID
	edit2, reply2     id.EventID
	children          []id.EventID
}

func newRelFixture(t *testing.T, ts *testServer) *relFixture {
	ctx := context.Background()
	f := &relFixture{alice: registerClient(t, ts, "alice"), bob: registerClient(t, ts, "bob"), carol: registerClient(t, ts, "carol")}
	created, err := f.alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	if err != nil {
		t.Fatal(err)
	}
	f.room = created.RoomID
	for _, c := range []*mautrix.Client{f.bob, f.carol} {
		if _, err := c.JoinRoomByID(ctx, f.room); err != nil {
			t.Fatal(err)
		}
	}
	msg := event.EventMessage
	f.root = sendRel(t, f.alice, f.room, msg, map[string]any{"msgtype": "m.text", "body": "hello"})
	f.reaction = sendRel(t, f.bob, f.room, event.EventReaction, map[string]any{"m.relates_to": map[string]any{"rel_type": "m.annotation", "event_id": f.root.String(), "key": "👍"}})
	edit := func(cli *mautrix.Client, body string) id.EventID {
		return sendRel(t, cli, f.room, msg, map[string]any{"msgtype": "m.text", "body": "* " + body,
			"m.new_content": map[string]any{"msgtype": "m.text", "body": body}, "m.relates_to": relatesTo("m.replace", f.root)})
	}
	e1 := edit(f.alice, "hello again")
	f.edit2 = edit(f.alice, "hello, world")
	forged := edit(f.bob, "bob was here") // not the sender: never the bundled edit
	r1 := sendRel(t, f.bob, f.room, msg, map[string]any{"msgtype": "m.text", "body": "in thread", "m.relates_to": relatesTo("m.thread", f.root)})
	f.reply2 = sendRel(t, f.bob, f.room, msg, map[string]any{"msgtype": "m.text", "body": "in thread 2", "m.relates_to": relatesTo("m.thread", f.root)})
	ref := sendRel(t, f.alice, f.room, msg, map[string]any{"msgtype": "m.text", "body": "see above", "m.relates_to": relatesTo("m.reference", f.root)})
	f.children = []id.EventID{f.reaction, e1, f.edit2, forged, r1, f.reply2, ref}
	return f
}

func (f *relFixture) path(rest string) string {
	return "/_matrix/client/v1/rooms/" + url.PathEscape(f.room.String()) + rest
}

// checkBundle verifies the root's aggregations as seen by a user.
func (f *relFixture) checkBundle(t *testing.T, where string, ev relEvent, participated bool) {
	t.Helper()
	r := ev.Unsigned.Relations
	if r == nil || r.Thread == nil || r.Replace == nil || r.Reference == nil {
		t.Fatalf("%s: root aggregations missing: %+v", where, r)
	}
	if r.Thread.Count != 2 || r.Thread.LatestEvent.EventID != f.reply2.String() || r.Thread.CurrentUserParticipated != participated {
		t.Errorf("%s: m.thread = %+v", where, *r.Thread)
	}
	if r.Replace.EventID != f.edit2.String() || r.Replace.Sender != f.alice.UserID.String() {
		t.Errorf("%s: m.replace = %s by %s, want %s", where, r.Replace.EventID, r.Replace.Sender, f.edit2)
	}
	if len(r.Reference.Chunk) != 1 || r.Reference.Chunk[0].EventID != f.children[6].String() {
		t.Errorf("%s: m.reference = %+v", where, r.Reference.Chunk)
	}
}

func TestRelationsAggregations(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		f := newRelFixture(t, ts)
		// /messages: the root carries its bundle.
		var msgs relPage
		relGet(t, ts, "/_matrix/client/v3/rooms/"+url.PathEscape(f.room.String())+"/messages?dir=b&limit=50", f.carol.AccessToken, &msgs)
		found := false
		for _, ev := range msgs.Chunk {
			if ev.EventID == f.root.String() {
				found = true
				f.checkBundle(t, "/messages", ev, false)
			}
		}
		if !found {
			t.Fatal("/messages: root not served")
		}
		// /sync (initial): the same bundle; bob replied in the thread.
		var sync struct {
			Rooms struct {
				Join map[string]struct {
					Timeline struct{ Events []relEvent } `json:"timeline"`
				} `json:"join"`
			} `json:"rooms"`
		}
		filter := url.QueryEscape(`{"room":{"timeline":{"limit":50}}}`)
		relGet(t, ts, "/_matrix/client/v3/sync?filter="+filter, f.bob.AccessToken, &sync)
		found = false
		for _, ev := range sync.Rooms.Join[f.room.String()].Timeline.Events {
			if ev.EventID == f.root.String() {
				found = true
				f.checkBundle(t, "/sync", ev, true)
			}
		}
		if !found {
			t.Fatal("/sync: root not in timeline")
		}
		// /event: the author participated by starting the thread.
		var one relEvent
		relGet(t, ts, "/_matrix/client/v3/rooms/"+url.PathEscape(f.room.String())+"/event/"+url.PathEscape(f.root.String()), f.alice.AccessToken, &one)
		f.checkBundle(t, "/event", one, true)
	})
}

func TestRelationsPaginationAndThreads(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		f := newRelFixture(t, ts)
		tok := f.carol.AccessToken
		base := f.path("/relations/" + url.PathEscape(f.root.String()))
		for _, dir := range []string{"b", "f"} {
			var got []string
			next := ""
			for range 10 {
				var page relPage
				relGet(t, ts, base+"?limit=3&dir="+dir+"&from="+url.QueryEscape(next), tok, &page)
				for _, ev := range page.Chunk {
					got = append(got, ev.EventID)
				}
				if next = page.NextBatch; next == "" {
					break
				}
			}
			if len(got) != len(f.children) {
				t.Fatalf("dir=%s: %d children, want %d: %v", dir, len(got), len(f.children), got)
			}
			for i, want := range f.children {
				j := i
				if dir == "b" {
					j = len(got) - 1 - i
				}
				if got[j] != want.String() {
					t.Errorf("dir=%s: child %d = %s, want %s", dir, j, got[j], want)
				}
			}
		}
		var ann relPage
		relGet(t, ts, base+"/m.annotation/m.reaction", tok, &ann)
		if len(ann.Chunk) != 1 || ann.Chunk[0].EventID != f.reaction.String() {
			t.Errorf("annotations = %+v", ann.Chunk)
		}
		var thread relPage
		relGet(t, ts, base+"/m.thread", tok, &thread)
		if len(thread.Chunk) != 2 || thread.Chunk[0].EventID != f.reply2.String() {
			t.Errorf("thread children = %+v", thread.Chunk)
		}
		// Thread list: all, and participated (bob replied, carol did not).
		var threads relPage
		relGet(t, ts, f.path("/threads"), tok, &threads)
		if len(threads.Chunk) != 1 || threads.Chunk[0].EventID != f.root.String() || threads.Chunk[0].Unsigned.Relations == nil {
			t.Errorf("threads = %+v", threads.Chunk)
		}
		relGet(t, ts, f.path("/threads?include=participated"), tok, &threads)
		if len(threads.Chunk) != 0 {
			t.Errorf("carol's participated threads = %+v", threads.Chunk)
		}
		relGet(t, ts, f.path("/threads?include=participated"), f.bob.AccessToken, &threads)
		if len(threads.Chunk) != 1 {
			t.Errorf("bob's participated threads = %+v", threads.Chunk)
		}
	})
}

func TestRelationsBadInput(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		f := newRelFixture(t, ts)
		outsider := registerClient(t, ts, "dave")
		tok := f.carol.AccessToken
		base := f.path("/relations/" + url.PathEscape(f.root.String()))
		runErrCases(t, ts, []errCase{
			{"bad dir", "GET", base + "?dir=up", tok, "", 400, "M_INVALID_PARAM"},
			{"bad from", "GET", base + "?from=xyz", tok, "", 400, "M_INVALID_PARAM"},
			{"bad to", "GET", base + "?to=r1x", tok, "", 400, "M_INVALID_PARAM"},
			{"bad limit", "GET", base + "?limit=ten", tok, "", 400, "M_INVALID_PARAM"},
			{"bad recurse", "GET", base + "?recurse=yes", tok, "", 400, "M_INVALID_PARAM"},
			{"unknown event", "GET", f.path("/relations/" + url.PathEscape("$nope")), tok, "", 404, "M_NOT_FOUND"},
			{"bad event id", "GET", f.path("/relations/nope"), tok, "", 400, "M_INVALID_PARAM"},
			{"not a member", "GET", base, outsider.AccessToken, "", 403, "M_FORBIDDEN"},
			{"no token", "GET", base, "", "", 401, "M_MISSING_TOKEN"},
			{"threads bad include", "GET", f.path("/threads?include=mine"), tok, "", 400, "M_INVALID_PARAM"},
			{"threads bad from", "GET", f.path("/threads?from=zzz"), tok, "", 400, "M_INVALID_PARAM"},
			{"threads not a member", "GET", f.path("/threads"), outsider.AccessToken, "", 403, "M_FORBIDDEN"},
		})
		var rec struct {
			Chunk          []relEvent `json:"chunk"`
			RecursionDepth *int       `json:"recursion_depth"`
		}
		relGet(t, ts, base+"?recurse=true", tok, &rec)
		if rec.RecursionDepth == nil || len(rec.Chunk) != len(f.children) {
			t.Errorf("recurse: depth %v, %d events", rec.RecursionDepth, len(rec.Chunk))
		}
	})
}
