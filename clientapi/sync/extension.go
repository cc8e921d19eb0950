package sync

import (
	"context"
	"encoding/json"
)

// ExtensionSource adds a side stream owned by another area to /sync: the
// end-to-end encryption service contributes to-device messages
// (client-server-api "Send-to-Device messaging") and device list changes
// and key counts ("End-to-End Encryption"); presence fills its slot. It owns its storage and wakes
// users through Notifier.Wake after a change is readable.
type ExtensionSource interface {
	// Stream is the token slot the source advances: StreamToDevice or StreamDeviceLists.
	Stream() StreamID
	// Current is the source's highest readable position.
	Current() int64
	// Fill adds to out what the device should receive for positions in
	// (q.Since, q.Upto]; q.Since is 0 on an initial sync. Sources that
	// report per-device counts fill them on every sync.
	Fill(ctx context.Context, q ExtensionQuery, out *Extensions) error
}

// ExtensionQuery says whose sync is being answered and which range.
type ExtensionQuery struct {
	UserID   string
	DeviceID string
	Since    int64
	Upto     int64
	// Initial is set for a sync without since (Since is 0 then, but it is
	// also 0 on an incremental sync while the stream is still empty).
	Initial bool
	// Limit caps the to-device messages filled (0: all; only sliding
	// sync sets it, MSC3885 "limit").
	Limit int
}

// Extensions are the top-level /sync sections the extension sources fill.
type Extensions struct {
	// ToDevice are the to-device events, oldest first.
	ToDevice []json.RawMessage
	// ToDeviceNext is, when Limit cut ToDevice short, the position of its
	// last message: the next batch starts after it (0 otherwise).
	ToDeviceNext int64
	// DeviceListsChanged / DeviceListsLeft are users whose device lists
	// changed, or with whom the user no longer shares an encrypted room.
	DeviceListsChanged []string
	DeviceListsLeft    []string
	// OneTimeKeysCount is the device's unclaimed one-time keys by algorithm.
	OneTimeKeysCount map[string]int
	// UnusedFallbackKeyTypes lists the algorithms with an unused fallback
	// key; nil when the source does not report it.
	UnusedFallbackKeyTypes []string
	// Presence are m.presence events (the presence source, StreamPresence).
	Presence []json.RawMessage
}
