package main

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"testing"

	"github.com/kabarchat/kabar/federation/fedclient"
	"github.com/kabarchat/kabar/models/spec"
)

// TestFederationReads asks hs2 (as hs1) for events, state, backfill and
// missing events of the shared room, and for join templates it must refuse.
func TestFederationReads(t *testing.T) {
	r := newSharedRoom(t, "10")
	ctx := context.Background()
	var ids []string
	for i := range 5 {
		ids = append(ids, r.send(t, r.hs1, r.alice, "m", "reads-"+string(rune('a'+i))))
	}
	for _, id := range ids {
		waitEvent(t, r.hs2.testServer, id)
	}
	c := r.hs1.srv.fed.client
	hs2 := spec.ServerName(r.hs2.ServerName)
	room := url.PathEscape(r.room)
	last := ids[len(ids)-1]
	create, _ := r.hs2.srv.store.CurrentStateRow(ctx, r.room, "m.room.create", "")

	t.Run("event", func(t *testing.T) {
		var out struct{ PDUs []map[string]any }
		if err := c.Do(ctx, hs2, "GET", "/_matrix/federation/v1/event/"+url.PathEscape(last), nil, &out); err != nil || len(out.PDUs) != 1 {
			t.Fatalf("%v %v", err, out)
		}
	})
	t.Run("state_ids", func(t *testing.T) {
		var out struct {
			PDUIDs       []string `json:"pdu_ids"`
			AuthChainIDs []string `json:"auth_chain_ids"`
		}
		err := c.Do(ctx, hs2, "GET", "/_matrix/federation/v1/state_ids/"+room+"?event_id="+url.QueryEscape(last), nil, &out)
		if err != nil || !slices.Contains(out.PDUIDs, create.EventID) || !slices.Contains(out.AuthChainIDs, create.EventID) {
			t.Fatalf("%v %+v", err, out)
		}
	})
	t.Run("event_auth", func(t *testing.T) {
		var out struct {
			AuthChain []map[string]any `json:"auth_chain"`
		}
		err := c.Do(ctx, hs2, "GET", "/_matrix/federation/v1/event_auth/"+room+"/"+url.PathEscape(last), nil, &out)
		found := false
		for _, e := range out.AuthChain {
			found = found || e["type"] == "m.room.create"
		}
		if err != nil || !found {
			t.Fatalf("%v %d events, create found %v", err, len(out.AuthChain), found)
		}
	})
	t.Run("backfill", func(t *testing.T) {
		var out struct{ PDUs []map[string]any }
		err := c.Do(ctx, hs2, "GET", "/_matrix/federation/v1/backfill/"+room+"?v="+url.QueryEscape(last)+"&limit=3", nil, &out)
		if err != nil || len(out.PDUs) != 3 {
			t.Fatalf("%v %d", err, len(out.PDUs))
		}
	})
	t.Run("get_missing_events", func(t *testing.T) {
		var out struct{ Events []map[string]any }
		body := map[string]any{"earliest_events": []string{ids[1]}, "latest_events": []string{last}, "limit": 10}
		err := c.Do(ctx, hs2, "POST", "/_matrix/federation/v1/get_missing_events/"+room, body, &out)
		if err != nil || len(out.Events) != 2 { // ids[2], ids[3]
			t.Fatalf("%v %d", err, len(out.Events))
		}
	})

	refusals := []struct {
		name, path string
		status     int
		errcode    string
	}{
		{"make_join without a shared version", "/_matrix/federation/v1/make_join/" + room + "/" + url.PathEscape("@carol:"+r.hs1.ServerName) + "?ver=1", 400, "M_INCOMPATIBLE_ROOM_VERSION"},
		{"make_join for another server's user", "/_matrix/federation/v1/make_join/" + room + "/" + url.PathEscape("@carol:"+r.hs2.ServerName) + "?ver=10", 403, "M_FORBIDDEN"},
		{"make_join in an unknown room", "/_matrix/federation/v1/make_join/" + url.PathEscape("!nope:"+r.hs2.ServerName) + "/" + url.PathEscape("@carol:"+r.hs1.ServerName) + "?ver=10", 404, "M_NOT_FOUND"},
		{"state_ids without event_id", "/_matrix/federation/v1/state_ids/" + room, 400, "M_MISSING_PARAM"},
		{"backfill without limit", "/_matrix/federation/v1/backfill/" + room + "?v=" + url.QueryEscape(last), 400, "M_INVALID_PARAM"},
		{"unknown event", "/_matrix/federation/v1/event/" + url.PathEscape("$nope"), 404, "M_NOT_FOUND"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Do(ctx, hs2, "GET", tc.path, nil, nil)
			var he *fedclient.HTTPError
			if !errors.As(err, &he) || he.Status != tc.status || he.Errcode != tc.errcode {
				t.Fatalf("got %v, want %d %s", err, tc.status, tc.errcode)
			}
		})
	}
}
