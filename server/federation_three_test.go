package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/federation/xmatrix"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// trio is three federating Kabars, each with its own database and one user.
type trio struct {
	ca  *testCA
	hs  [3]*fedServer
	tok [3]string // access tokens of alice@hs1, bob@hs2, carol@hs3
	uid [3]string
}

// newTrio starts hs1 on the last database of storetest.URLs (Postgres when
// KABAR_TEST_POSTGRES is set) and hs2, hs3 on SQLite files of their own.
func newTrio(t *testing.T) *trio {
	t.Helper()
	dbs := storetest.URLs(t)
	tr := &trio{ca: newTestCA(t)}
	urls := [3]string{dbs[len(dbs)-1].URL, filepath.Join(t.TempDir(), "hs2.db"), filepath.Join(t.TempDir(), "hs3.db")}
	names := [3]string{"alice", "bob", "carol"}
	for i := range 3 {
		tr.hs[i] = startFedServer(t, tr.ca, fmt.Sprintf("127.0.0.%d", i+2), urls[i])
		tr.tok[i] = tr.hs[i].register(t, names[i], "password-"+names[i])
		tr.uid[i] = "@" + names[i] + ":" + tr.hs[i].ServerName
	}
	return tr
}

func roomPath(room string) string { return "/_matrix/client/v3/rooms/" + url.PathEscape(room) }

// chat sends one message as user i and returns its event ID.
func (tr *trio) chat(t *testing.T, i int, room, body string) string {
	t.Helper()
	return tr.hs[i].call(t, "PUT", roomPath(room)+"/send/m.room.message/"+url.PathEscape(body), tr.tok[i],
		`{"msgtype":"m.text","body":"`+body+`"}`, 200)["event_id"].(string)
}

// everywhere waits until every server holds every event, accepted.
func (tr *trio) everywhere(t *testing.T, ids ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for i, hs := range tr.hs {
		for _, id := range ids {
			for {
				row, err := hs.srv.store.EventByID(context.Background(), id)
				if err == nil && !row.Rejected && !row.SoftFailed {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("hs%d: event %s never accepted (rejected %v, soft-failed %v, err %v)",
						i+1, id, row.Rejected, row.SoftFailed, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
}

// memberEverywhere waits until every server sees user i with membership.
func (tr *trio) memberEverywhere(t *testing.T, room string, i int, membership string) {
	t.Helper()
	for _, hs := range tr.hs {
		waitMembership(t, hs.testServer, room, tr.uid[i], membership)
	}
}

// createAndJoin: user owner creates a room, invites the others, and they
// join through the owner's server; every server then sees three members.
func (tr *trio) createAndJoin(t *testing.T, owner int, body string) string {
	t.Helper()
	room := tr.hs[owner].call(t, "POST", "/_matrix/client/v3/createRoom", tr.tok[owner], body, 200)["room_id"].(string)
	for i := range 3 {
		if i == owner {
			continue
		}
		tr.hs[owner].call(t, "POST", roomPath(room)+"/invite", tr.tok[owner], `{"user_id":"`+tr.uid[i]+`"}`, 200)
		// Only the room's servers and the invitee's know of the invite yet.
		waitMembership(t, tr.hs[owner].testServer, room, tr.uid[i], "invite")
		waitMembership(t, tr.hs[i].testServer, room, tr.uid[i], "invite")
		tr.hs[i].call(t, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room)+"?via="+url.QueryEscape(tr.hs[owner].ServerName),
			tr.tok[i], `{}`, 200)
	}
	for i := range 3 {
		tr.memberEverywhere(t, room, i, "join")
	}
	return room
}

// converged waits until the three servers hold the same current state of
// room, and the servers named by timeline (indexes) the same timeline
// events from depth `from` on.
func (tr *trio) converged(t *testing.T, room string, from int64, timeline ...int) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var states, timelines [3]string
		for i, hs := range tr.hs {
			rows, _ := hs.srv.store.CurrentStateRows(ctx, room, "")
			states[i] = stateIDs(rows)
			if !slices.Contains(timeline, i) {
				continue
			}
			evs, _ := hs.srv.store.RoomStream(ctx, room, 0, math.MaxInt64, 10000)
			var ids []string
			for _, ev := range evs {
				if ev.Depth >= from {
					ids = append(ids, ev.EventID)
				}
			}
			slices.Sort(ids)
			timelines[i] = strings.Join(ids, "\n")
		}
		same := states[0] != "" && states[0] == states[1] && states[1] == states[2]
		for _, i := range timeline {
			same = same && timelines[i] == timelines[timeline[0]]
		}
		if same {
			return
		}
		if time.Now().After(deadline) {
			for i := range 3 {
				t.Logf("hs%d state:\n%s\nhs%d timeline:\n%s", i+1, states[i], i+1, timelines[i])
			}
			t.Fatalf("servers did not converge on %s", room)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// depthOf is the depth of an event on server i.
func (tr *trio) depthOf(t *testing.T, i int, id string) int64 {
	row, err := tr.hs[i].srv.store.EventByID(context.Background(), id)
	if err != nil {
		t.Fatalf("event %s on hs%d: %v", id, i+1, err)
	}
	return row.Depth
}

// TestFederationThreeServers: alice@hs1, bob@hs2 and carol@hs3 create rooms
// on their own servers, invite and join each other, chat, leave, and alice
// bans carol; all three servers converge to the same current state and the
// same timeline, and carol's events after the ban are refused everywhere.
func TestFederationThreeServers(t *testing.T) {
	tr := newTrio(t)
	roomA := tr.createAndJoin(t, 0, `{"preset":"private_chat","room_version":"10","name":"A"}`)
	roomB := tr.createAndJoin(t, 1, `{"preset":"private_chat","name":"B"}`)
	carolJoinA, _ := tr.hs[2].srv.store.CurrentStateRow(context.Background(), roomA, "m.room.member", tr.uid[2])
	carolJoinB, _ := tr.hs[2].srv.store.CurrentStateRow(context.Background(), roomB, "m.room.member", tr.uid[2])
	fromA, fromB := tr.depthOf(t, 2, carolJoinA.EventID), tr.depthOf(t, 2, carolJoinB.EventID)

	// Everyone chats in both rooms, interleaved across servers.
	var sent []string
	for round := range 3 {
		for i := range 3 {
			sent = append(sent, tr.chat(t, i, roomA, fmt.Sprintf("A-%d-%d", i, round)),
				tr.chat(t, i, roomB, fmt.Sprintf("B-%d-%d", i, round)))
		}
	}
	tr.everywhere(t, sent...)

	// carol leaves B on her own server: hs1 and hs2 learn it through /send.
	tr.hs[2].call(t, "POST", roomPath(roomB)+"/leave", tr.tok[2], `{}`, 200)
	tr.memberEverywhere(t, roomB, 2, "leave")
	tr.converged(t, roomB, fromB, 0, 1, 2)

	// alice, admin of A on hs1, bans carol of hs3; hs3 gets the ban too.
	preBan, _ := tr.hs[2].srv.store.ForwardExtremities(context.Background(), roomA)
	tr.hs[0].call(t, "POST", roomPath(roomA)+"/ban", tr.tok[0], `{"user_id":"`+tr.uid[2]+`","reason":"spam"}`, 200)
	tr.memberEverywhere(t, roomA, 2, "ban")
	code, resp := tr.hs[2].do(t, "PUT", roomPath(roomA)+"/send/m.room.message/after-ban", tr.tok[2],
		strings.NewReader(`{"msgtype":"m.text","body":"still here"}`))
	if code != 403 || !strings.Contains(string(resp), "M_FORBIDDEN") {
		t.Fatalf("carol sending after her ban: %d %s, want 403 M_FORBIDDEN", code, resp)
	}
	tr.converged(t, roomA, fromA, 0, 1, 2)
	tr.refusesForged(t, roomA, carolJoinA.EventID, preBan)
	// The others still chat in A; carol's server no longer gets A's events.
	fromBob, after := tr.chat(t, 1, roomA, "after-ban-bob"), tr.chat(t, 0, roomA, "after-ban-alice")
	waitEvent(t, tr.hs[0].testServer, fromBob)
	waitEvent(t, tr.hs[1].testServer, after)
	for _, id := range []string{fromBob, after} {
		if _, err := tr.hs[2].srv.store.EventByID(context.Background(), id); err == nil {
			t.Errorf("hs3 received an event of A after its only user was banned")
		}
	}
	tr.converged(t, roomA, fromA, 0, 1)
}

// refusesForged has hs3 (whose key signs) send carol's messages into A after
// her ban, to hs1 and hs2 directly: one on top of the current room (its
// auth events cite her stale join: rejected) and one forked from before the
// ban (allowed by the state before it, soft-failed against current state:
// server-server-api "Soft failure"). Neither enters any timeline.
func (tr *trio) refusesForged(t *testing.T, room, staleJoin string, preBan []string) {
	t.Helper()
	ctx := context.Background()
	hs3 := tr.hs[2]
	key3, err := keys.LoadOrCreate(filepath.Join(hs3.srv.cfg.DataDir, "signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	create, _ := hs3.srv.store.CurrentStateRow(ctx, room, "m.room.create", "")
	pl, _ := hs3.srv.store.CurrentStateRow(ctx, room, "m.room.power_levels", "")
	current, _ := hs3.srv.store.ForwardExtremities(ctx, room)
	var forged []*event.Event
	for i, prev := range [][]string{current, preBan} {
		b := &event.Builder{RoomID: room, Sender: tr.uid[2], Type: "m.room.message",
			Content:    map[string]any{"msgtype": "m.text", "body": fmt.Sprint("forged ", i)},
			PrevEvents: prev, AuthEvents: []string{create.EventID, pl.EventID, staleJoin}, Depth: 10000}
		ev, err := b.Build(event.LookupRoomVersion("10"), hs3.ServerName, key3.ID, key3.PrivateKey())
		if err != nil {
			t.Fatal(err)
		}
		forged = append(forged, ev)
	}
	body, _ := json.Marshal(map[string]any{"origin": hs3.ServerName, "origin_server_ts": time.Now().UnixMilli(),
		"pdus": []json.RawMessage{forged[0].JSON(), forged[1].JSON()}})
	for _, target := range tr.hs[:2] {
		path := "/_matrix/federation/v1/send/forged-" + target.ServerName
		auth, err := xmatrix.Sign(key3, hs3.ServerName, target.ServerName, "PUT", path, body)
		if err != nil {
			t.Fatal(err)
		}
		if status, resp := fedRequest(t, tr.ca, "PUT", "https://"+target.ServerName+path, auth, body); status != 200 {
			t.Fatalf("send to %s: %d %v", target.ServerName, status, resp)
		}
		if row, err := target.srv.store.EventByID(ctx, forged[0].EventID()); err == nil && !row.Rejected {
			t.Errorf("%s did not reject the forged event on top of the ban (soft-failed %v)", target.ServerName, row.SoftFailed)
		}
		if row, err := target.srv.store.EventByID(ctx, forged[1].EventID()); err != nil || !row.SoftFailed {
			t.Errorf("%s: the forged fork from before the ban is not soft-failed (%v, rejected %v)", target.ServerName, err, row.Rejected)
		}
		// Not in /messages of the room's members either.
		i := slices.Index(tr.hs[:], target)
		msgs := target.call(t, "GET", roomPath(room)+"/messages?dir=b&limit=100", tr.tok[i], "", 200)
		raw, _ := json.Marshal(msgs["chunk"])
		if strings.Contains(string(raw), "forged") {
			t.Errorf("%s serves a forged event in /messages", target.ServerName)
		}
	}
}
