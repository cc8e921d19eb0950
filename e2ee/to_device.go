package e2ee

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// SendToDevice delivers one /sendToDevice request (client-server-api
// "PUT /sendToDevice/{eventType}/{txnId}"): local devices get the message in
// their inbox ("*" means all of the user's devices), remote users' messages
// are queued as m.direct_to_device EDUs, one per server. A repeated txnID of
// the same device is a successful no-op.
func (s *Service) SendToDevice(ctx context.Context, sender, senderDevice, eventType, txnID string,
	messages map[string]map[string]json.RawMessage) error {
	r := s.toDevice.Reserve(1)
	local, remote, err := s.splitMessages(ctx, sender, eventType, r.First, messages)
	if err != nil {
		r.Done()
		return err
	}
	err = s.st.PutToDevice(ctx, store.ToDeviceBatch{Sender: sender, DeviceID: senderDevice, TxnID: txnID, StreamPos: r.First,
		Messages: local, MaxPerDevice: s.opts.MaxInbox}, s.opts.Now().UnixMilli())
	r.Done()
	switch {
	case errors.Is(err, store.ErrDuplicateTxn):
		return nil
	case errors.Is(err, store.ErrInboxFull):
		// NOTSPEC: the spec has no error for a full inbox; 429 tells the
		// sender to retry once the recipient has synced.
		e := spec.LimitExceeded(5000)
		e.Message = "a recipient device has too many undelivered to-device messages"
		return e
	case err != nil:
		return err
	}
	s.wake(local)
	for srv, msgs := range remote {
		s.sendEDU(ctx, "m.direct_to_device", directToDevice{Sender: sender, Type: eventType,
			MessageID: sender + "/" + senderDevice + "/" + txnID, Messages: msgs}, []spec.ServerName{srv})
	}
	return nil
}

// directToDevice is the m.direct_to_device EDU (server-server-api
// "Send-to-device messaging").
type directToDevice struct {
	Sender    string                                `json:"sender"`
	Type      string                                `json:"type"`
	MessageID string                                `json:"message_id"`
	Messages  map[string]map[string]json.RawMessage `json:"messages"`
}

// splitMessages expands local recipients into inbox rows and groups remote
// ones by server. Unknown local users or devices are skipped silently.
func (s *Service) splitMessages(ctx context.Context, sender, eventType string, pos int64,
	messages map[string]map[string]json.RawMessage) ([]models.ToDeviceMessage, map[spec.ServerName]map[string]map[string]json.RawMessage, error) {
	var local []models.ToDeviceMessage
	remote := map[spec.ServerName]map[string]map[string]json.RawMessage{}
	now := s.opts.Now().UnixMilli()
	for user, byDevice := range messages {
		uid, err := spec.ParseUserID(user)
		if err != nil {
			return nil, nil, spec.InvalidParam("invalid user ID %q in messages", user)
		}
		if uid.Server() != s.opts.ServerName {
			if remote[uid.Server()] == nil {
				remote[uid.Server()] = map[string]map[string]json.RawMessage{}
			}
			remote[uid.Server()][user] = byDevice
			continue
		}
		devices, err := s.st.ListDevices(ctx, user)
		if err != nil {
			return nil, nil, err
		}
		for target, content := range byDevice {
			if !json.Valid(content) || len(content) == 0 || content[0] != '{' {
				return nil, nil, spec.BadJSON("message for %s/%s must be an object", user, target)
			}
			for _, d := range devices {
				if target == "*" || target == d.DeviceID {
					local = append(local, models.ToDeviceMessage{UserID: user, DeviceID: d.DeviceID, StreamPos: pos,
						Sender: sender, Type: eventType, Content: string(content), CreatedAt: now})
				}
			}
		}
	}
	return local, remote, nil
}

// wake notifies the recipients of new inbox messages.
func (s *Service) wake(msgs []models.ToDeviceMessage) {
	var users []string
	for _, m := range msgs {
		if len(users) == 0 || users[len(users)-1] != m.UserID {
			users = append(users, m.UserID)
		}
	}
	if len(users) > 0 {
		s.opts.Notifier.Wake(users...)
	}
}

// DeliverRemoteToDevice stores an incoming m.direct_to_device EDU for our
// users (called by the federation receiver; messageID deduplicates retries
// as a transaction of the remote sender).
func (s *Service) DeliverRemoteToDevice(ctx context.Context, origin spec.ServerName, raw json.RawMessage) error {
	var edu directToDevice
	if err := json.Unmarshal(raw, &edu); err != nil {
		return spec.BadJSON("m.direct_to_device: %v", err)
	}
	if serverOf(edu.Sender) != origin || edu.MessageID == "" {
		return spec.Forbidden("m.direct_to_device sender does not belong to %s", origin)
	}
	mine := map[string]map[string]json.RawMessage{}
	for u, m := range edu.Messages {
		if s.isLocal(u) {
			mine[u] = m
		}
	}
	err := s.SendToDevice(ctx, edu.Sender, "", edu.Type, edu.MessageID, mine)
	var se *spec.Error
	if errors.As(err, &se) && se.Status == http.StatusTooManyRequests {
		s.log.Warn("dropped remote to-device message: inbox full", "origin", origin)
		return nil
	}
	return err
}

// ToDeviceEvent is one to-device event as /sync delivers it.
type ToDeviceEvent struct {
	Sender  string          `json:"sender"`
	Type    string          `json:"type"`
	Content json.RawMessage `json:"content"`
}
