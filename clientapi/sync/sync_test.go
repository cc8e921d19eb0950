package sync

import (
	"context"
	"testing"
	"time"

	"github.com/kabarchat/kabar/federation/rooms/streampos"
)

func TestTokenRoundTrip(t *testing.T) {
	tok := Token{5, 4, 3, 2, 1, 0, 9}
	got, err := ParseToken(tok.String())
	if err != nil || got != tok {
		t.Fatalf("ParseToken(%q) = %v, %v", tok.String(), got, err)
	}
	for _, bad := range []string{"", "s1_", "s1_1_2_3", "x1_0_0_0_0_0_0_0", "s1_1_2_3_4_5_6_-7", "s1_01_0_0_0_0_0_0", "s1_a_0_0_0_0_0_0", "s1_0_0_0_0_0_0_0_0"} {
		if _, err := ParseToken(bad); err == nil {
			t.Errorf("ParseToken(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "t", "t1", "t1_", "t-1_2", "s1_2"} {
		if _, err := ParseTopoToken(bad); err == nil {
			t.Errorf("ParseTopoToken(%q) accepted", bad)
		}
	}
}

func TestStreamsCheck(t *testing.T) {
	s := &Streams{}
	now := Token{10, 10, 10, 10, 10, 10, 10}
	if _, err := s.Check(Token{11}, now); err == nil {
		t.Error("events ahead of the server accepted")
	}
	got, err := s.Check(Token{3, 3, 3, 99, 0, 0, 0}, now)
	if err != nil || got[StreamTyping] != 0 {
		t.Errorf("in-memory stream ahead: got %v, %v; want reset to 0", got, err)
	}
}

func TestFilter(t *testing.T) {
	f, err := ParseFilter([]byte(`{"room":{"rooms":["!a:x"],"timeline":{"limit":3,"types":["m.room.*"],"not_senders":["@bad:x"]},"state":{"lazy_load_members":true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	rf := f.RoomPart()
	tl := rf.TimelineFilter()
	cases := []struct {
		room, typ, sender string
		want              bool
	}{
		{"!a:x", "m.room.message", "@ann:x", true},
		{"!a:x", "m.reaction", "@ann:x", false},
		{"!a:x", "m.room.message", "@bad:x", false},
	}
	for _, c := range cases {
		if got := tl.AllowsEvent(c.room, c.typ, c.sender, false); got != c.want {
			t.Errorf("AllowsEvent(%s, %s, %s) = %v", c.room, c.typ, c.sender, got)
		}
	}
	if !rf.AllowsRoom("!a:x") || rf.AllowsRoom("!b:x") || tl.LimitOr(10) != 3 || !rf.StateFilter().LazyLoadMembers {
		t.Error("room filter parts not applied")
	}
	for _, bad := range []string{``, `[]`, `{"room":{"timeline":{"limit":"x"}}}`, `{"room":{"timeline":{"limit":-1}}}`, `{"event_format":"xml"}`, `{"room":{"rooms":"!a:x"}}`} {
		if _, err := ParseFilter([]byte(bad)); err == nil {
			t.Errorf("ParseFilter(%q) accepted", bad)
		}
	}
}

func TestNotifierWakesOnlyConcernedUsers(t *testing.T) {
	n := NewNotifier()
	a, b := n.Subscribe("@a:x"), n.Subscribe("@b:x")
	defer a.Close()
	n.Notify(7, []string{"@a:x", "@nobody:x"})
	select {
	case <-a.C():
	case <-time.After(time.Second):
		t.Fatal("@a not woken")
	}
	select {
	case <-b.C():
		t.Fatal("@b woken")
	default:
	}
	if a.Rearm() != 7 {
		t.Error("event position not recorded")
	}
	b.Close()
	if n.Listening() != 1 {
		t.Errorf("Listening = %d, want 1", n.Listening())
	}
}

func TestWaitFor(t *testing.T) {
	a := streampos.New(0)
	r1, r2 := a.Reserve(1), a.Reserve(1)
	r2.Done()
	done := make(chan error, 1)
	go func() { done <- WaitFor(context.Background(), a, 2) }()
	select {
	case <-done:
		t.Fatal("WaitFor returned before position 1 finished")
	case <-time.After(20 * time.Millisecond):
	}
	r1.Done()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestTypingExpires(t *testing.T) {
	woken := make(chan string, 4)
	ty := NewTyping(func(room string) { woken <- room }, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ty.Run(ctx)
	ty.Set("!r:x", "@a:x", 30*time.Millisecond)
	if users, ok := ty.Since("!r:x", 0); !ok || len(users) != 1 {
		t.Fatalf("typing = %v, %v", users, ok)
	}
	<-woken
	select {
	case <-woken:
	case <-time.After(time.Second):
		t.Fatal("typing did not expire")
	}
	if users, ok := ty.Since("!r:x", 1); !ok || len(users) != 0 {
		t.Errorf("after expiry typing = %v, %v", users, ok)
	}
}
