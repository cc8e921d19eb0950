package sync

import (
	"fmt"
	"strconv"
	"strings"
)

// StreamID names one slot of a sync token.
type StreamID int

// The streams a sync token records, in token order. Events is the global
// event stream (rooms/streampos); the others are side streams with their own
// positions. ToDevice and DeviceLists are filled by ExtensionSources.
const (
	StreamEvents StreamID = iota
	StreamAccountData
	StreamReceipts
	StreamTyping
	StreamPresence
	StreamToDevice
	StreamDeviceLists
	numStreams
)

var streamNames = [numStreams]string{"events", "account_data", "receipts", "typing", "presence", "to_device", "device_lists"}

func (s StreamID) String() string {
	if s < 0 || s >= numStreams {
		return fmt.Sprintf("stream(%d)", int(s))
	}
	return streamNames[s]
}

// Token is a sync position: one position per stream. Clients treat it as
// opaque (client-server-api "Syncing": next_batch / since).
type Token [numStreams]int64

// tokenPrefix versions the encoding, so a future layout can tell old
// tokens apart.
const tokenPrefix = "s1_"

// String encodes the token: "s1_" and the positions joined by "_".
func (t Token) String() string {
	var b strings.Builder
	b.WriteString(tokenPrefix)
	for i, p := range t {
		if i > 0 {
			b.WriteByte('_')
		}
		b.WriteString(strconv.FormatInt(p, 10))
	}
	return b.String()
}

// ParseToken decodes a token written by String. Anything else is an error
// (the caller answers 400 M_INVALID_PARAM, never a silent full resync).
func ParseToken(s string) (Token, error) {
	var t Token
	rest, ok := strings.CutPrefix(s, tokenPrefix)
	if !ok {
		return t, fmt.Errorf("not a sync token")
	}
	parts := strings.Split(rest, "_")
	if len(parts) != int(numStreams) {
		return t, fmt.Errorf("sync token has %d positions, want %d", len(parts), numStreams)
	}
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil || v < 0 || (len(p) > 1 && p[0] == '0') {
			return t, fmt.Errorf("sync token position %q is not a non-negative integer", p)
		}
		t[i] = v
	}
	return t, nil
}

// Get returns one stream's position.
func (t Token) Get(s StreamID) int64 { return t[s] }

// After reports whether any position of t is ahead of since.
func (t Token) After(since Token) bool {
	for i := range t {
		if t[i] > since[i] {
			return true
		}
	}
	return false
}
