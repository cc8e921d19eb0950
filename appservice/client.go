package appservice

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// ErrNoURL is returned for a service registered with a null url.
var ErrNoURL = errors.New("application service has no url")

// StatusError is a non-2xx answer from the service.
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string { return fmt.Sprintf("application service answered %d", e.Status) }

// call sends one request to the service with its hs_token
// (application-service-api.md "Authorization": the Authorization header,
// never the legacy access_token query parameter) and decodes a 2xx JSON
// answer into out when out is not nil.
func call(ctx context.Context, client *http.Client, reg *Registration, method, path string, body, out any) error {
	base := reg.BaseURL()
	if base == "" {
		return ErrNoURL
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+reg.HSToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{Status: resp.StatusCode, Body: string(data)}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: answer is not JSON: %w", method, path, err)
		}
	}
	return nil
}

// sendTransaction is PUT /_matrix/app/v1/transactions/{txnId}
// (transactions.yaml). ephemeral is omitted when empty; it goes under the
// stable key and, as Synapse sends it, the MSC2409 one that older bridges
// read.
func sendTransaction(ctx context.Context, client *http.Client, reg *Registration, txnID string, events, ephemeral []any) error {
	body := map[string]any{"events": events}
	if len(ephemeral) > 0 {
		body["ephemeral"] = ephemeral
		body["de.sorunome.msc2409.ephemeral"] = ephemeral
	}
	return call(ctx, client, reg, http.MethodPut, "/_matrix/app/v1/transactions/"+url.PathEscape(txnID), body, nil)
}

// PingResult is the outcome of Ping.
type PingResult struct {
	Duration time.Duration
}

// Ping is POST /_matrix/app/v1/ping (ping.yaml), asked for by the service
// itself through the client API.
func Ping(ctx context.Context, client *http.Client, reg *Registration, txnID string) (PingResult, error) {
	body := map[string]any{}
	if txnID != "" {
		body["transaction_id"] = txnID
	}
	start := time.Now()
	err := call(ctx, client, reg, http.MethodPost, "/_matrix/app/v1/ping", body, nil)
	return PingResult{Duration: time.Since(start)}, err
}

// IsTimeout reports whether err is a timeout reaching the service.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
