package sender

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/fedclient"
	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// peer is a destination that records transactions and can be down.
type peer struct {
	mu       sync.Mutex
	down     bool
	txnIDs   []string
	pdus     []string // event IDs in arrival order
	inFlight int
	maxPar   int
}

func (p *peer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		w.WriteHeader(503)
		return
	}
	p.inFlight++
	p.maxPar = max(p.maxPar, p.inFlight)
	p.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
	var txn struct {
		PDUs []json.RawMessage `json:"pdus"`
	}
	json.NewDecoder(r.Body).Decode(&txn)
	p.mu.Lock()
	p.inFlight--
	p.txnIDs = append(p.txnIDs, strings.TrimPrefix(r.URL.Path, "/_matrix/federation/v1/send/"))
	for _, raw := range txn.PDUs {
		ev, err := event.Parse(event.LookupRoomVersion("10"), raw)
		if err == nil {
			p.pdus = append(p.pdus, ev.EventID())
		}
	}
	p.mu.Unlock()
	w.Write([]byte(`{"pdus":{}}`))
}

func (p *peer) received() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.pdus...)
}

// storeEvents builds and stores n signed events.
func storeEvents(t *testing.T, st *store.Store, key *keys.SigningKey, n int) []*event.Event {
	rv := event.LookupRoomVersion("10")
	var rows []models.Event
	var evs []*event.Event
	for i := range n {
		b := &event.Builder{RoomID: "!r:a.test", Sender: "@u:a.test", Type: "m.room.message",
			Content: map[string]any{"body": i}, PrevEvents: []string{}, AuthEvents: []string{}, Depth: int64(i + 1)}
		ev, err := b.Build(rv, "a.test", key.ID, key.PrivateKey())
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
		rows = append(rows, models.Event{EventNID: int64(i + 1), EventID: ev.EventID(), RoomID: "!r:a.test", Type: "m.room.message",
			Sender: "@u:a.test", StreamPos: int64(i + 1), JSON: string(ev.JSON())})
	}
	err := st.Transaction(context.Background(), func(tx *store.Store) error {
		return tx.WriteRoom(context.Background(), &store.RoomWrite{RoomID: "!r:a.test", Events: rows})
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestSenderQueueSurvivesOutageAndRestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := &peer{down: true}
		srv := httptest.NewTLSServer(p)
		defer srv.Close()
		ca := filepath.Join(t.TempDir(), "ca.pem")
		os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
		key, _ := keys.Generate()
		client, err := fedclient.New(fedclient.Options{ServerName: "a.test", Key: key, TrustedCAFile: ca, AllowPrivateAddresses: true})
		if err != nil {
			t.Fatal(err)
		}
		dest := spec.ServerName(strings.TrimPrefix(srv.URL, "https://"))
		evs := storeEvents(t, st, key, 120)
		var ids []string
		for _, ev := range evs {
			ids = append(ids, ev.EventID())
		}
		opts := Options{Store: st, Client: client, ServerName: "a.test", MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}

		// First sender: the peer is down; everything stays queued.
		ctx, cancel := context.WithCancel(context.Background())
		s1 := New(opts)
		done := make(chan error)
		go func() { done <- s1.Run(ctx) }()
		time.Sleep(20 * time.Millisecond)
		for _, ev := range evs {
			s1.Send(ev, []spec.ServerName{dest, "a.test"})
		}
		time.Sleep(100 * time.Millisecond)
		cancel()
		<-done
		if got := p.received(); len(got) != 0 {
			t.Fatalf("delivered %d while down", len(got))
		}

		// Restart with the peer up: the queue left in the database drains in
		// order, at most 50 PDUs per transaction, one transaction at a time.
		p.mu.Lock()
		p.down = false
		p.mu.Unlock()
		ctx, cancel = context.WithCancel(context.Background())
		defer cancel()
		go New(opts).Run(ctx)
		deadline := time.Now().Add(5 * time.Second)
		for len(p.received()) < len(ids) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		got := p.received()
		if strings.Join(got, ",") != strings.Join(ids, ",") {
			t.Fatalf("received %d events (in order: %v), want %d", len(got), strings.Join(got, ",") == strings.Join(ids[:len(got)], ","), len(ids))
		}
		p.mu.Lock()
		txns, par := len(p.txnIDs), p.maxPar
		p.mu.Unlock()
		if txns != 3 || par != 1 {
			t.Errorf("transactions %d (want 3 of <=50), max in flight %d", txns, par)
		}
		// Rows go once the acknowledgement is processed, just after the
		// peer saw the last PDU.
		for {
			left, _ := st.QueueDestinations(context.Background())
			if len(left) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("queue not empty: %v", left)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
