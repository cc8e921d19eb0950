package notifications

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/federation/rooms"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
	"github.com/kabarchat/kabar/models/store/storetest/roomtest"
	"github.com/kabarchat/kabar/push"
)

// TestSharedDefaultsMatchPerUser drives a mixed stream (joins, invites,
// messages, mentions, notices, reactions, edits, name changes, leaves)
// through the worker with the shared evaluation of default rules and
// compares each batch with every user running their own ruleset: the
// notifications, and so the counts, must be identical. Users with custom
// rules, among them override rules on m.room.member, must still be
// notified of member events.
func TestSharedDefaultsMatchPerUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		roomSvc := roomtest.Service(t, st)
		svc := newWorker(t, st, roomSvc)
		ref := newWorker(t, st, roomSvc)
		ref.perUser = true
		const (
			alice = "@alice:kabar.test" // creator (v12: infinite power)
			bob   = "@bob:kabar.test"   // defaults
			carol = "@carol:kabar.test" // override rule on member events
			dave  = "@dave:kabar.test"  // .m.rule.member_event changed to notify
			erin  = "@erin:kabar.test"  // content rule and display name rule
			frank = "@frank:kabar.test" // invited, then joins
			gina  = "@gina:kabar.test"  // adds a member rule half-way
		)
		memberRule := RuleInput{
			Actions:    []json.RawMessage{json.RawMessage(`"notify"`)},
			Conditions: []push.Condition{{Kind: "event_match", Key: "type", Pattern: ptr("m.room.member")}},
		}
		if err := svc.PutRule(ctx, carol, push.KindOverride, "members", memberRule, "", ""); err != nil {
			t.Fatal(err)
		}
		if err := svc.UpdateRule(ctx, dave, push.KindOverride, ".m.rule.member_event", nil, []json.RawMessage{json.RawMessage(`"notify"`)}); err != nil {
			t.Fatal(err)
		}
		lunch := RuleInput{Actions: []json.RawMessage{json.RawMessage(`"notify"`), json.RawMessage(`{"set_tweak":"highlight"}`)}, Pattern: ptr("lunch")}
		if err := svc.PutRule(ctx, erin, push.KindContent, "lunch", lunch, "", ""); err != nil {
			t.Fatal(err)
		}
		name := RuleInput{
			Actions:    []json.RawMessage{json.RawMessage(`"notify"`), json.RawMessage(`{"set_tweak":"sound","value":"default"}`)},
			Conditions: []push.Condition{{Kind: "contains_display_name"}},
		}
		if err := svc.PutRule(ctx, erin, push.KindOverride, "name", name, "", ""); err != nil {
			t.Fatal(err)
		}

		roomID, err := roomSvc.CreateRoom(ctx, rooms.CreateRequest{Creator: alice, Visibility: "public"})
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string][2]int64{} // per user, from the reference
		step := func(what string, do func() error) []models.Notification {
			t.Helper()
			from := svc.Processed()
			if err := do(); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			rows, err := st.StreamEventsBetween(ctx, from, roomSvc.Stream().Current(), batchSize)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ref.evaluate(ctx, rows)
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.catchUp(ctx); err != nil {
				t.Fatal(err)
			}
			got, err := svc.evaluate(ctx, rows)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range want {
				c := counts[n.UserID]
				c[0]++
				if n.Highlight {
					c[1]++
				}
				counts[n.UserID] = c
			}
			if g, w := noteKeys(got), noteKeys(want); !slices.Equal(g, w) {
				t.Errorf("%s:\nshared   %v\nper user %v", what, g, w)
			}
			return got
		}
		join := func(u string, extra map[string]any) func() error {
			return func() error {
				_, err := roomSvc.Membership(ctx, roomID, spec.UserID(u), spec.UserID(u), "join", "", extra)
				return err
			}
		}
		send := func(content map[string]any, typ string) func() error {
			return func() error {
				_, err := roomSvc.Send(ctx, roomID, rooms.Proto{Type: typ, Sender: alice, Content: content}, rooms.Txn{})
				return err
			}
		}
		for _, u := range []string{bob, carol, dave, gina} {
			step("join "+u, join(u, nil))
		}
		notes := step("join erin", join(erin, map[string]any{"displayname": "Erin Brock"}))
		if got := usersOf(notes); !slices.Equal(got, []string{carol, dave}) {
			t.Errorf("erin's join notified %v, want carol (override rule) and dave (changed default)", got)
		}
		notes = step("invite frank", func() error {
			_, err := roomSvc.Membership(ctx, roomID, spec.UserID(alice), spec.UserID(frank), "invite", "", nil)
			return err
		})
		if got := usersOf(notes); !slices.Equal(got, []string{carol, dave, frank}) {
			t.Errorf("frank's invite notified %v, want carol, dave and frank (invite_for_me)", got)
		}
		step("frank joins", join(frank, nil))
		notes = step("message", send(map[string]any{"msgtype": "m.text", "body": "lunch?"}, "m.room.message"))
		if len(notes) != 6 || !highlighted(notes, erin) {
			t.Errorf("message: %v, want all six members, erin highlighted (content rule)", noteKeys(notes))
		}
		notes = step("name", send(map[string]any{"msgtype": "m.text", "body": "Erin Brock, lunch?"}, "m.room.message"))
		if len(notes) != 6 || highlighted(notes, erin) || !strings.Contains(strings.Join(noteKeys(notes), "\n"), "@erin:kabar.test $") {
			t.Errorf("name: %v, want erin's display name rule (override, before content)", noteKeys(notes))
		}
		notes = step("mention", send(map[string]any{"msgtype": "m.text", "body": "hi", "m.mentions": map[string]any{"user_ids": []any{bob}}}, "m.room.message"))
		if !highlighted(notes, bob) || highlighted(notes, carol) {
			t.Errorf("mention: %v, want bob alone highlighted", noteKeys(notes))
		}
		notes = step("room mention", send(map[string]any{"msgtype": "m.text", "body": "all", "m.mentions": map[string]any{"room": true}}, "m.room.message"))
		if len(notes) != 6 || !highlighted(notes, bob) || !highlighted(notes, frank) {
			t.Errorf("room mention: %v, want all six members highlighted (the creator's infinite power)", noteKeys(notes))
		}
		notes = step("notice mentioning bob", send(map[string]any{"msgtype": "m.notice", "body": "bot", "m.mentions": map[string]any{"user_ids": []any{bob}}}, "m.room.message"))
		if len(notes) != 0 {
			t.Errorf("notice: %v, want none (suppress_notices)", noteKeys(notes))
		}
		step("reaction", send(map[string]any{"m.relates_to": map[string]any{"rel_type": "m.annotation", "event_id": "$x", "key": "+1"}}, "m.reaction"))
		step("encrypted", send(map[string]any{"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "x"}, "m.room.encrypted"))
		step("thread reply", send(map[string]any{"msgtype": "m.text", "body": "in thread", "m.relates_to": map[string]any{"rel_type": "m.thread", "event_id": "$root"}}, "m.room.message"))

		// Enough joins in one batch for the worker to read the member
		// list once for it (prefetchMembers), then a message.
		notes = step("many joins and a message", func() error {
			for i := range prefetchMembers + 4 {
				if err := join(fmt.Sprintf("@m%d:kabar.test", i), nil)(); err != nil {
					return err
				}
			}
			return send(map[string]any{"msgtype": "m.text", "body": "welcome"}, "m.room.message")()
		})
		joins, joiners := 0, 0
		for _, n := range notes {
			if n.UserID == carol {
				joins++
			} else if strings.HasPrefix(n.UserID, "@m") {
				joiners++
			}
		}
		if joins != prefetchMembers+4+1 || joiners != prefetchMembers+4 {
			t.Errorf("carol got %d notifications (want %d joins and the message), the joiners %d (want %d)", joins, prefetchMembers+5, joiners, prefetchMembers+4)
		}

		// A rule added after the worker loaded who has custom rules.
		if err := svc.PutRule(ctx, gina, push.KindOverride, "members", memberRule, "", ""); err != nil {
			t.Fatal(err)
		}
		ref.mu.Lock()
		delete(ref.rules, gina)
		ref.mu.Unlock()
		notes = step("rename erin", join(erin, map[string]any{"displayname": "Erin B"}))
		if got := usersOf(notes); !slices.Equal(got, []string{carol, dave, gina}) {
			t.Errorf("erin's rename notified %v, want carol, dave and gina (rule added at run time)", got)
		}
		step("bob leaves", func() error {
			_, err := roomSvc.Membership(ctx, roomID, spec.UserID(bob), spec.UserID(bob), "leave", "", nil)
			return err
		})
		step("after leave", send(map[string]any{"msgtype": "m.text", "body": "bye bob"}, "m.room.message"))

		// What the worker recorded (the shared evaluation) counts the same.
		if counts[carol][0] < 10 || counts[bob][1] != 2 || counts[erin][1] != 2 || counts[dave][1] != 1 {
			t.Errorf("reference counts %v: expected carol notified of member events, two highlights each for bob and erin (their own and @room), one for dave (@room)", counts)
		}
		for _, u := range []string{alice, bob, carol, dave, erin, frank, gina} {
			want := counts[u]
			rows, err := st.NotificationsFor(ctx, u, 0, 1000, false)
			if err != nil {
				t.Fatal(err)
			}
			n, h := int64(len(rows)), int64(0)
			for _, r := range rows {
				if r.Highlight {
					h++
				}
			}
			if n != want[0] || h != want[1] {
				t.Errorf("%s: counts %d/%d, want %d/%d", u, n, h, want[0], want[1])
			}
		}
	})
}

func ptr(s string) *string { return &s }

// noteKeys describes notifications order-independently (actions parsed,
// as tweak order is free).
func noteKeys(notes []models.Notification) []string {
	out := make([]string, 0, len(notes))
	for _, n := range notes {
		var raw []json.RawMessage
		json.Unmarshal([]byte(n.Actions), &raw)
		a := push.ParseActions(raw)
		out = append(out, fmt.Sprintf("%s %s notify=%v highlight=%v tweaks=%v thread=%q",
			n.UserID, n.EventID, a.Notify, n.Highlight, a.Tweaks, n.ThreadID))
	}
	sort.Strings(out)
	return out
}

func usersOf(notes []models.Notification) []string {
	var out []string
	for _, n := range notes {
		out = append(out, n.UserID)
	}
	sort.Strings(out)
	return out
}

func highlighted(notes []models.Notification, u string) bool {
	for _, n := range notes {
		if n.UserID == u {
			return n.Highlight
		}
	}
	return false
}
