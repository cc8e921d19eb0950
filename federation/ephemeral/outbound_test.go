package ephemeral

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/kabarchat/kabar/models/spec"
)

// queued records what would go to the sender's queues.
type queued struct {
	edus  []string
	dests [][]spec.ServerName
}

func (q *queued) SendEDU(edu []byte, dests []spec.ServerName) {
	q.edus = append(q.edus, string(edu))
	q.dests = append(q.dests, dests)
}

type members []string

func (m members) Members(context.Context, spec.RoomID, string) ([]string, error) { return m, nil }

func TestPublisher(t *testing.T) {
	room := members{"@a:here", "@b:here", "@c:one", "@d:one", "@e:two"}
	cases := []struct {
		name      string
		send      func(p *Publisher)
		wantEDU   string
		wantDests []spec.ServerName
	}{
		{"typing", func(p *Publisher) { p.Typing(context.Background(), "!r:here", "@a:here", true) },
			`{"edu_type":"m.typing","content":{"room_id":"!r:here","typing":true,"user_id":"@a:here"}}`, []spec.ServerName{"one", "two"}},
		{"receipt", func(p *Publisher) { p.Receipt(context.Background(), "!r:here", "@a:here", "m.read", "$e", "", 7) },
			`{"edu_type":"m.receipt","content":{"!r:here":{"m.read":{"@a:here":{"data":{"ts":7},"event_ids":["$e"]}}}}}`, []spec.ServerName{"one", "two"}},
		{"threaded receipt", func(p *Publisher) { p.Receipt(context.Background(), "!r:here", "@a:here", "m.read", "$e", "$t", 7) },
			`{"edu_type":"m.receipt","content":{"!r:here":{"m.read":{"@a:here":{"data":{"thread_id":"$t","ts":7},"event_ids":["$e"]}}}}}`, []spec.ServerName{"one", "two"}},
		{"private receipt stays home", func(p *Publisher) {
			p.Receipt(context.Background(), "!r:here", "@a:here", "m.read.private", "$e", "", 7)
		}, "", nil},
		{"remote user's typing is not relayed", func(p *Publisher) { p.Typing(context.Background(), "!r:here", "@c:one", true) }, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := &queued{}
			tc.send(&Publisher{ServerName: "here", Rooms: room, Queue: q})
			if tc.wantEDU == "" {
				if len(q.edus) != 0 {
					t.Fatalf("sent %v", q.edus)
				}
				return
			}
			if len(q.edus) != 1 || q.edus[0] != tc.wantEDU || !slices.Equal(q.dests[0], tc.wantDests) {
				t.Fatalf("sent %v to %v", q.edus, q.dests)
			}
		})
	}
	// A room with only local members sends nothing.
	q := &queued{}
	(&Publisher{ServerName: "here", Rooms: members{"@a:here"}, Queue: q}).Typing(context.Background(), "!r:here", "@a:here", false)
	if len(q.edus) != 0 {
		t.Fatalf("local-only room: %v", q.edus)
	}
}

func TestOutboxEnvelope(t *testing.T) {
	q := &queued{}
	if err := (Outbox{Queue: q}).SendEDU(context.Background(), "m.direct_to_device", json.RawMessage(`{"x":1}`), []spec.ServerName{"one"}); err != nil {
		t.Fatal(err)
	}
	if len(q.edus) != 1 || q.edus[0] != `{"edu_type":"m.direct_to_device","content":{"x":1}}` {
		t.Fatalf("queued %v", q.edus)
	}
}
