package sync

import (
	"fmt"
	"testing"

	"github.com/kabarchat/kabar/models"
)

// TestSlidingConnectionsBounded: connections are capped per user and in
// total (least recently used first), and a pos only resumes its own
// connection, at a position it still holds.
func TestSlidingConnectionsBounded(t *testing.T) {
	cs := newConnections()
	first := cs.start(connKey{"@a:x", "D", "c0"})
	first.mu.Lock()
	pos := first.commit(&connState{})
	first.mu.Unlock()
	for i := 1; i <= maxConnectionsPerUser; i++ {
		cs.start(connKey{"@a:x", "D", fmt.Sprint("c", i)})
	}
	if _, _, ok := cs.resume(connKey{"@a:x", "D", "c0"}, pos); ok {
		t.Error("the user's least recently used connection was kept over the per-user bound")
	}
	for i := range maxConnections + 10 {
		cs.start(connKey{fmt.Sprint("@u", i, ":x"), "D", ""})
	}
	if len(cs.m) != maxConnections {
		t.Errorf("%d connections kept, want %d", len(cs.m), maxConnections)
	}

	c := cs.start(connKey{"@b:x", "D", ""})
	c.mu.Lock()
	p1 := c.commit(&connState{})
	p2 := c.commit(&connState{})
	c.mu.Unlock()
	for _, tc := range []struct {
		key  connKey
		pos  string
		want bool
	}{
		{connKey{"@b:x", "D", ""}, p1, true},
		{connKey{"@b:x", "D", ""}, p2, true},
		{connKey{"@b:x", "E", ""}, p1, false},
		{connKey{"@b:x", "D", "other"}, p1, false},
		{connKey{"@b:x", "D", ""}, "x_1", false},
		{connKey{"@b:x", "D", ""}, "nonsense", false},
		{connKey{"@b:x", "D", ""}, c.nonce + "_-1", false},
	} {
		if _, _, ok := cs.resume(tc.key, tc.pos); ok != tc.want {
			t.Errorf("resume %v %q = %v, want %v", tc.key, tc.pos, ok, tc.want)
		}
	}
	// Resuming p1 forgets p2 (the client never saw it).
	_, n1, _ := cs.resume(connKey{"@b:x", "D", ""}, p1)
	_, n2, _ := cs.resume(connKey{"@b:x", "D", ""}, p2)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.state(n1); !ok {
		t.Fatal("p1 lost")
	}
	if _, ok := c.state(n2); ok {
		t.Error("p2 still held after resuming p1")
	}
}

// TestStateWants: required_state wildcards, $ME and $LAZY.
func TestStateWants(t *testing.T) {
	tl := []models.Event{{Sender: "@s:x"}}
	w := newStateWants([][]string{{"m.room.name", ""}, {"m.room.member", "$LAZY"}, {"m.room.member", "$ME"},
		{"m.space.child", "*"}, {"*", "special"}}, "@me:x", tl)
	for _, c := range []struct {
		typ, key string
		want     bool
	}{
		{"m.room.name", "", true}, {"m.room.topic", "", false},
		{"m.room.member", "@s:x", true}, {"m.room.member", "@me:x", true}, {"m.room.member", "@other:x", false},
		{"m.space.child", "!a:x", true}, {"org.example", "special", true}, {"org.example", "", false},
	} {
		if got := w.has(c.typ, c.key); got != c.want {
			t.Errorf("has(%s, %q) = %v, want %v", c.typ, c.key, got, c.want)
		}
	}
	if !newStateWants([][]string{{"*", "*"}}, "@me:x", nil).has("anything", "at all") {
		t.Error(`["*","*"] does not want everything`)
	}
	if !newStateWants(nil, "@me:x", tl).none() {
		t.Error("no required_state wants something")
	}
}

// TestSlidingLazyCopyOnWrite: tracking $LAZY members replaces the set, so
// an older position of the connection keeps what it had.
func TestSlidingLazyCopyOnWrite(t *testing.T) {
	key := func(s string) *string { return &s }
	old := map[string]bool{"@a:x": true, "@gone:x": true}
	rs := &roomState{lazy: old, changedMembers: map[string]bool{"@gone:x": true, "@b:x": true}}
	want := stateWants{lazy: map[string]bool{"@b:x": true}}
	rs.trackLazy(want, []models.Event{{Type: "m.room.member", StateKey: key("@b:x")}, {Type: "m.room.name", StateKey: key("")}})
	if len(old) != 2 || !old["@gone:x"] || old["@b:x"] {
		t.Errorf("the older position's set changed: %v", old)
	}
	if len(rs.lazy) != 2 || !rs.lazy["@a:x"] || !rs.lazy["@b:x"] {
		t.Errorf("new set %v, want @a:x and @b:x", rs.lazy)
	}
	// Nothing new: the same set is kept, not copied.
	same := rs.lazy
	rs.changedMembers = nil
	rs.trackLazy(want, []models.Event{{Type: "m.room.member", StateKey: key("@b:x")}})
	if len(rs.lazy) != 2 || fmt.Sprintf("%p", same) != fmt.Sprintf("%p", rs.lazy) {
		t.Errorf("unchanged set was replaced")
	}
	// Without $LAZY nothing is tracked.
	rs.trackLazy(stateWants{}, nil)
	if rs.lazy != nil {
		t.Errorf("set kept without $LAZY: %v", rs.lazy)
	}
}
