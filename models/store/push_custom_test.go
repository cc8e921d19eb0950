package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

func TestUsersWithPushRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if users, err := s.UsersWithPushRules(ctx); err != nil || len(users) != 0 {
			t.Fatalf("empty database: %v %v", users, err)
		}
		for _, id := range []string{"a", "b"} { // two rules, one user
			r := models.PushRule{UserID: "@own:x", Kind: "override", RuleID: id, Enabled: true, Conditions: `[]`, Actions: `[]`}
			if err := s.PutPushRule(ctx, r, "", ""); err != nil {
				t.Fatal(err)
			}
		}
		off := false
		if err := s.UpdateDefaultPushRule(ctx, "@changed:x", "underride", ".m.rule.message", &off, nil); err != nil {
			t.Fatal(err)
		}
		users, err := s.UsersWithPushRules(ctx)
		slices.Sort(users)
		if err != nil || !slices.Equal(users, []string{"@changed:x", "@own:x"}) {
			t.Errorf("got %v %v, want @changed:x and @own:x once each", users, err)
		}
	})
}

// TestAddNotificationsMany writes more rows than one INSERT takes on
// either database and reads them back.
func TestAddNotificationsMany(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.AddNotifications(ctx, nil); err != nil {
			t.Fatal(err)
		}
		const n = 2345
		var rows []models.Notification
		for i := range n {
			rows = append(rows, models.Notification{
				UserID: fmt.Sprintf("@u%d:x", i%3), RoomID: "!r:x", StreamPos: int64(i + 1), EventID: fmt.Sprintf("$%d", i),
				ThreadID: "", Highlight: i%10 == 0, Actions: `["notify"]`, TS: int64(i),
			})
		}
		if err := s.AddNotifications(ctx, rows); err != nil {
			t.Fatal(err)
		}
		var total, highlights int64
		for u := range 3 {
			got, err := s.NotificationsFor(ctx, fmt.Sprintf("@u%d:x", u), 0, n, false)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range got {
				total++
				if r.Highlight {
					highlights++
				}
				if want := rows[r.StreamPos-1]; r.EventID != want.EventID || r.UserID != want.UserID || r.TS != want.TS || r.Actions != want.Actions {
					t.Fatalf("row %d read back as %+v, written %+v", r.StreamPos, r, want)
				}
			}
		}
		if total != n || highlights != (n+9)/10 {
			t.Errorf("read back %d rows, %d highlights; want %d, %d", total, highlights, n, (n+9)/10)
		}
	})
}
