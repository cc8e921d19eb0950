package notifications

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/kabarchat/kabar/models"
)

// job is one notification for one HTTP pusher.
type job struct {
	pusher  models.Pusher
	note    models.Notification
	attempt int
	due     time.Time
}

// delivery posts notifications to push gateways from a few workers; a
// failed post waits in a retry list with exponential backoff, so a gateway
// that is down costs timers, not workers, and never the sender.
type delivery struct {
	s       *Service
	jobs    chan job
	mu      sync.Mutex
	later   []job
	changed chan struct{}
}

const deliveryWorkers = 4

func newDelivery(s *Service) *delivery {
	return &delivery{s: s, jobs: make(chan job, 4096), changed: make(chan struct{}, 1)}
}

// forPushers expands notifications into jobs for the users' HTTP pushers.
// Which users have pushers is checked under one lock for the batch (a
// message in a big room has a notification per member).
func (s *Service) forPushers(notes []models.Notification) []job {
	var withPushers []models.Notification
	s.mu.Lock()
	for _, n := range notes {
		if s.pushUsers[n.UserID] {
			withPushers = append(withPushers, n)
		}
	}
	s.mu.Unlock()
	var out []job
	for _, n := range withPushers {
		pushers, err := s.st.Pushers(context.Background(), n.UserID)
		if err != nil {
			s.log.Warn("load pushers", "user", n.UserID, "err", err)
			continue
		}
		for _, p := range pushers {
			if p.Kind == "http" {
				out = append(out, job{pusher: p, note: n})
			}
		}
	}
	return out
}

// enqueue hands jobs to the workers without ever blocking: when the queue
// is full the notification is dropped (and logged), not the event stream.
func (d *delivery) enqueue(jobs []job) {
	for _, j := range jobs {
		select {
		case d.jobs <- j:
		default:
			d.s.log.Warn("push queue full, dropping notification", "app_id", j.pusher.AppID)
		}
	}
}

func (d *delivery) run(ctx context.Context) {
	var wg sync.WaitGroup
	for range deliveryWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-d.jobs:
					d.attempt(ctx, j)
				}
			}
		}()
	}
	d.schedule(ctx)
	wg.Wait()
}

// schedule moves due retries back to the queue, sleeping until the next
// one is due.
func (d *delivery) schedule(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		d.mu.Lock()
		now := time.Now()
		var due []job
		keep := d.later[:0]
		for _, j := range d.later {
			if j.due.After(now) {
				keep = append(keep, j)
			} else {
				due = append(due, j)
			}
		}
		d.later = keep
		next := time.Hour
		if len(keep) > 0 {
			sort.Slice(keep, func(a, b int) bool { return keep[a].due.Before(keep[b].due) })
			next = time.Until(keep[0].due)
		}
		d.mu.Unlock()
		d.enqueue(due)
		timer.Reset(max(next, time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-d.changed:
		}
	}
}

func (d *delivery) attempt(ctx context.Context, j job) {
	err := d.post(ctx, j)
	if err == nil || ctx.Err() != nil {
		return
	}
	j.attempt++
	if j.attempt >= d.s.opts.MaxAttempts {
		d.s.log.Warn("push gateway gave up", "app_id", j.pusher.AppID, "attempts", j.attempt, "err", err)
		return
	}
	backoff := min(d.s.opts.RetryBase<<(j.attempt-1), d.s.opts.RetryMax)
	j.due = time.Now().Add(backoff)
	d.mu.Lock()
	d.later = append(d.later, j)
	d.mu.Unlock()
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

// post sends one notification (push-gateway-api "POST
// /_matrix/push/v1/notify") and drops the pusher if the gateway rejects
// its pushkey.
func (d *delivery) post(ctx context.Context, j job) error {
	var data map[string]any
	json.Unmarshal([]byte(j.pusher.Data), &data) // stored by us
	url, _ := data["url"].(string)
	body, err := json.Marshal(map[string]any{"notification": d.s.payload(ctx, j, data)})
	if err != nil {
		return fmt.Errorf("encode notification: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("push gateway request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.s.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("push gateway: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("push gateway answered %d", resp.StatusCode)
	}
	var out struct {
		Rejected []string `json:"rejected"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out)
	for _, key := range out.Rejected {
		if key == j.pusher.Pushkey {
			d.s.log.Info("push gateway rejected pushkey; removing pusher", "app_id", j.pusher.AppID)
			return d.s.removeRejected(ctx, j.pusher)
		}
	}
	return nil
}
