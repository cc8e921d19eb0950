package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/federation/canonicaljson"
	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/federation/xmatrix"
	"github.com/kabarchat/kabar/models/spec"
)

// TestFederationSendBadInput sends hand-made transactions from hs1 to hs2:
// each bad PDU is refused (or, for a wrong content hash, kept redacted) and
// bad transactions get the right Matrix error.
func TestFederationSendBadInput(t *testing.T) {
	r := newSharedRoom(t, "10")
	ctx := context.Background()
	key1, err := keys.LoadOrCreate(filepath.Join(r.hs1.srv.cfg.DataDir, "signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	rv := event.LookupRoomVersion("10")
	good := r.send(t, r.hs1, r.alice, "original", "g1")
	waitEvent(t, r.hs2.testServer, good)
	goodRow, _ := r.hs1.srv.store.EventByID(ctx, good)

	// A new message by alice, signed by hs1, not yet sent.
	build := func(sender, body string) *event.Event {
		extr, _ := r.hs1.srv.store.ForwardExtremities(ctx, r.room)
		create, _ := r.hs1.srv.store.CurrentStateRow(ctx, r.room, "m.room.create", "")
		pl, _ := r.hs1.srv.store.CurrentStateRow(ctx, r.room, "m.room.power_levels", "")
		member, _ := r.hs1.srv.store.CurrentStateRow(ctx, r.room, "m.room.member", sender)
		auth := []string{create.EventID, pl.EventID}
		if member.EventID != "" {
			auth = append(auth, member.EventID)
		}
		b := &event.Builder{RoomID: r.room, Sender: sender, Type: "m.room.message",
			Content: map[string]any{"msgtype": "m.text", "body": body}, PrevEvents: extr, AuthEvents: auth, Depth: 1000}
		ev, err := b.Build(rv, r.hs1.ServerName, key1.ID, key1.PrivateKey())
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	alice := "@alice:" + r.hs1.ServerName
	edit := func(raw []byte, f func(map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal(raw, &m)
		f(m)
		out, _ := canonicaljson.Marshal(m)
		return out
	}
	hashMismatch := build(alice, "secret")
	badSig := build(alice, "resigned")
	mallory := build("@mallory:"+r.hs1.ServerName, "let me in")
	elsewhere := edit(build(alice, "unknown room").JSON(), func(m map[string]any) { m["room_id"] = "!unknown:" + r.hs1.ServerName })
	elsewhereID := guessEventIDForTest(t, elsewhere)

	txn := func(pdus ...[]byte) string {
		raws := make([]json.RawMessage, len(pdus))
		for i, p := range pdus {
			raws[i] = p
		}
		b, _ := json.Marshal(map[string]any{"origin": r.hs1.ServerName, "origin_server_ts": 1, "pdus": raws})
		return string(b)
	}
	put := func(txnID, body string) (int, map[string]any) {
		path := "/_matrix/federation/v1/send/" + url.PathEscape(txnID)
		signed := []byte(body)
		if !json.Valid(signed) {
			signed = nil // cannot sign what is not JSON: the signature then fails
		}
		auth, err := xmatrix.Sign(key1, r.hs1.ServerName, r.hs2.ServerName, "PUT", path, signed)
		if err != nil {
			t.Fatal(err)
		}
		return fedRequest(t, r.ca, "PUT", "https://"+r.hs2.ServerName+path, auth, []byte(body))
	}
	pduError := func(resp map[string]any, id string) string {
		pdus, _ := resp["pdus"].(map[string]any)
		res, ok := pdus[id].(map[string]any)
		if !ok {
			return "<no result>"
		}
		s, _ := res["error"].(string)
		return s
	}

	pduCases := []struct {
		name, id  string
		pdu       []byte
		wantError string // substring; "" for accepted
		stored    bool
		rejected  bool // stored marked rejected, never served
	}{
		{"replayed known event", goodRow.EventID, []byte(goodRow.JSON), "", true, false},
		{"content changed: kept redacted", hashMismatch.EventID(), edit(hashMismatch.JSON(), func(m map[string]any) {
			m["content"] = map[string]any{"msgtype": "m.text", "body": "tampered"}
		}), "", true, false},
		{"signature broken", badSig.EventID(), edit(badSig.JSON(), func(m map[string]any) {
			m["signatures"] = map[string]any{r.hs1.ServerName: map[string]any{key1.ID: strings.Repeat("A", 86)}}
		}), "M_FORBIDDEN", false, false},
		{"sender not in the room", mallory.EventID(), mallory.JSON(), "M_FORBIDDEN", true, true},
		{"unknown room: answered, not dropped", elsewhereID, elsewhere, "M_NOT_FOUND", false, false},
	}
	for i, tc := range pduCases {
		t.Run(tc.name, func(t *testing.T) {
			status, resp := put(fmt.Sprintf("pdu-%d", i), txn(tc.pdu))
			if status != 200 {
				t.Fatalf("status %d: %v", status, resp)
			}
			if got := pduError(resp, tc.id); (tc.wantError == "" && got != "") || !strings.Contains(got, tc.wantError) {
				t.Fatalf("result %q, want %q", got, tc.wantError)
			}
			row, err := r.hs2.srv.store.EventByID(ctx, tc.id)
			if (err == nil) != tc.stored {
				t.Fatalf("stored = %v, want %v", err == nil, tc.stored)
			}
			if row.Rejected != tc.rejected {
				t.Fatalf("rejected = %v, want %v", row.Rejected, tc.rejected)
			}
			if tc.rejected {
				err := r.hs1.srv.fed.client.Do(ctx, spec.ServerName(r.hs2.ServerName), "GET", "/_matrix/federation/v1/event/"+url.PathEscape(tc.id), nil, nil)
				if err == nil {
					t.Fatal("a rejected event was served")
				}
			}
			if tc.name == "content changed: kept redacted" && strings.Contains(row.JSON, "tampered") {
				t.Errorf("event with a wrong content hash was stored unredacted")
			}
		})
	}

	t.Run("transaction replay is answered, not reprocessed", func(t *testing.T) {
		ev := build(alice, "once")
		body := txn(ev.JSON())
		s1, r1 := put("replay", body)
		s2, r2 := put("replay", body)
		if s1 != 200 || s2 != 200 || fmt.Sprint(r1) != fmt.Sprint(r2) {
			t.Fatalf("%d %v / %d %v", s1, r1, s2, r2)
		}
	})

	t.Run("server ACL denies the origin", func(t *testing.T) {
		path := "/_matrix/client/v3/rooms/" + url.PathEscape(r.room) + "/state/m.room.server_acl/"
		aclID := r.hs1.call(t, "PUT", path, r.alice, `{"allow":["*"],"deny":["127.0.0.2"]}`, 200)["event_id"].(string)
		waitEvent(t, r.hs2.testServer, aclID)
		ev := build(alice, "after the ACL")
		status, resp := put("acl", txn(ev.JSON()))
		if status != 200 || !strings.Contains(pduError(resp, ev.EventID()), "M_FORBIDDEN") {
			t.Fatalf("%d %v", status, resp)
		}
		if _, err := r.hs2.srv.store.EventByID(ctx, ev.EventID()); err == nil {
			t.Fatal("an event of a denied server was stored")
		}
	})

	many := make([][]byte, 51)
	for i := range many {
		many[i] = []byte(goodRow.JSON)
	}
	txnCases := []struct {
		name, body string
		status     int
		errcode    string
	}{
		{"over 50 PDUs", txn(many...), 413, "M_TOO_LARGE"},
		{"origin differs from the signer", strings.Replace(txn(), r.hs1.ServerName, "127.0.0.9:1", 1), 403, "M_FORBIDDEN"},
		{"not JSON", "{", 401, "M_UNAUTHORIZED"},
	}
	for i, tc := range txnCases {
		t.Run(tc.name, func(t *testing.T) {
			status, resp := put(fmt.Sprintf("bad-%d", i), tc.body)
			if status != tc.status || resp["errcode"] != tc.errcode {
				t.Fatalf("%d %v, want %d %s", status, resp, tc.status, tc.errcode)
			}
		})
	}
}

// guessEventIDForTest computes a v10 event ID of a raw PDU.
func guessEventIDForTest(t *testing.T, raw []byte) string {
	ev, err := event.Parse(event.LookupRoomVersion("10"), raw)
	if err != nil {
		t.Fatal(err)
	}
	return ev.EventID()
}
