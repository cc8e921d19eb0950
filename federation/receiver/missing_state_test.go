package receiver

import (
	"slices"
	"testing"
)

func TestStateAfter(t *testing.T) {
	keys := map[string]*[2]string{
		"$create": {"m.room.create", ""},
		"$topic1": {"m.room.topic", ""},
		"$topic2": {"m.room.topic", ""},
		"$alice":  {"m.room.member", "@alice:a"},
	}
	cases := []struct {
		name, prev string
		before     []string
		want       []string
	}{
		{"message prev: the state before it", "$msg", []string{"$create", "$topic1", "$alice"}, []string{"$create", "$topic1", "$alice"}},
		{"state prev replaces its key", "$topic2", []string{"$create", "$topic1", "$alice"}, []string{"$create", "$alice", "$topic2"}},
		{"unknown entries are dropped", "$msg", []string{"$create", "$nope"}, []string{"$create"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := stateAfter(tc.prev, tc.before, keys); !slices.Equal(got, tc.want) {
				t.Fatalf("%v, want %v", got, tc.want)
			}
		})
	}
}
