package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// TestReceiptsBetween: receipts of every room in a position range, in
// stream order and bounded; a moved receipt shows at its new position only.
func TestReceiptsBetween(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		put := func(room, user, event string, pos int64) {
			t.Helper()
			if err := s.PutReceipt(ctx, models.Receipt{RoomID: room, Type: "m.read", UserID: user, EventID: event, TS: pos, StreamPos: pos}); err != nil {
				t.Fatal(err)
			}
		}
		put("!a:x", "@u:x", "$1", 1)
		put("!b:x", "@u:x", "$2", 2)
		put("!a:x", "@v:x", "$3", 3)
		put("!a:x", "@u:x", "$4", 4) // moves @u's receipt in !a
		for _, tc := range []struct {
			from, to int64
			limit    int
			want     []string
		}{
			{0, 4, 10, []string{"$2", "$3", "$4"}},
			{0, 4, 2, []string{"$2", "$3"}},
			{2, 3, 10, []string{"$3"}},
			{4, 4, 10, nil},
		} {
			rows, err := s.ReceiptsBetween(ctx, tc.from, tc.to, tc.limit)
			var got []string
			for _, r := range rows {
				got = append(got, r.EventID)
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("(%d, %d] limit %d = %v %v, want %v", tc.from, tc.to, tc.limit, got, err, tc.want)
			}
		}
	})
}
