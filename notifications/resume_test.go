package notifications

import (
	"testing"
	"time"

	"github.com/kabarchat/kabar/models"
)

// TestFresh: after a restart, only notifications of events younger than
// maxPushAge go to push gateways.
func TestFresh(t *testing.T) {
	now := time.UnixMilli(10_000_000_000)
	ms := func(d time.Duration) int64 { return now.Add(-d).UnixMilli() }
	tests := []struct {
		name string
		ts   int64
		keep bool
	}{
		{"just now", ms(0), true},
		{"59 minutes", ms(59 * time.Minute), true},
		{"exactly an hour", ms(time.Hour), true},
		{"two hours", ms(2 * time.Hour), false},
		{"future clock skew", ms(-time.Minute), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := fresh([]models.Notification{{TS: tc.ts}}, now)
			if (len(got) == 1) != tc.keep {
				t.Errorf("kept %d, want keep=%v", len(got), tc.keep)
			}
		})
	}
}
