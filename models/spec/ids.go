package spec

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Identifier grammar: appendices, "Common Identifier Format", "Server Name",
// "User Identifiers", "Room IDs", "Event IDs".

// MaxIDLength is the byte limit for user, room, event IDs and aliases
// (appendices: "The length of a user ID ... MUST NOT exceed 255 bytes").
const MaxIDLength = 255

// ErrInvalidID is wrapped by every identifier parse error.
var ErrInvalidID = errors.New("invalid identifier")

func invalid(kind, s, why string) error {
	return fmt.Errorf("%w: %s %q: %s", ErrInvalidID, kind, s, why)
}

// ServerName is a Matrix server name: host[:port].
type ServerName string

// ParseServerName checks the appendix grammar: a DNS name, IPv4 literal or
// bracketed IPv6 literal, with an optional decimal port.
func ParseServerName(s string) (ServerName, error) {
	if s == "" || len(s) > MaxIDLength {
		return "", invalid("server name", s, "empty or too long")
	}
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", invalid("server name", s, "unterminated IPv6 literal")
		}
		host, port = s[:end+1], s[end+1:]
		if _, err := netip.ParseAddr(host[1 : len(host)-1]); err != nil || !strings.Contains(host, ":") {
			return "", invalid("server name", s, "bad IPv6 literal")
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i:]
	}
	if port != "" {
		if port[0] != ':' || len(port) < 2 || len(port) > 6 {
			return "", invalid("server name", s, "bad port")
		}
		n, err := strconv.Atoi(port[1:])
		if err != nil || n < 1 || n > 65535 || strings.ContainsAny(port[1:], "+-") {
			return "", invalid("server name", s, "bad port")
		}
	}
	if !strings.HasPrefix(host, "[") {
		if host == "" || len(host) > 255 {
			return "", invalid("server name", s, "bad host")
		}
		for _, r := range host {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
				return "", invalid("server name", s, "bad character in host")
			}
		}
	}
	return ServerName(s), nil
}

// Host returns the server name without its port.
func (s ServerName) Host() string {
	str := string(s)
	if strings.HasPrefix(str, "[") {
		return str[:strings.IndexByte(str, ']')+1]
	}
	if i := strings.LastIndexByte(str, ':'); i >= 0 {
		return str[:i]
	}
	return str
}

// splitID splits "<sigil>local:server" and validates the server name.
func splitID(kind string, sigil byte, s string) (local string, server ServerName, err error) {
	if len(s) > MaxIDLength {
		return "", "", invalid(kind, s, "longer than 255 bytes")
	}
	if len(s) < 3 || s[0] != sigil {
		return "", "", invalid(kind, s, fmt.Sprintf("must start with %q", sigil))
	}
	i := strings.IndexByte(s, ':')
	if i < 0 {
		return "", "", invalid(kind, s, "missing server name")
	}
	server, err = ParseServerName(s[i+1:])
	if err != nil {
		return "", "", fmt.Errorf("%s %q: %w", kind, s, err)
	}
	return s[1:i], server, nil
}

// UserID is a fully qualified user ID, @localpart:server.
type UserID string

// ValidLocalpart reports whether a localpart uses only the characters the
// appendix allows for new user IDs: a-z 0-9 . _ = - / +
func ValidLocalpart(local string) bool {
	if local == "" {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("._=-/+", c) >= 0) {
			return false
		}
	}
	return true
}

// validHistoricalLocalpart accepts the wider historical grammar (any printable
// ASCII except ':'), which other servers may still use.
func validHistoricalLocalpart(local string) bool {
	if local == "" {
		return false
	}
	for i := 0; i < len(local); i++ {
		if c := local[i]; c < 0x21 || c > 0x7E || c == ':' {
			return false
		}
	}
	return true
}

// ParseUserID parses a user ID, accepting historical localparts.
func ParseUserID(s string) (UserID, error) {
	local, _, err := splitID("user ID", '@', s)
	if err != nil {
		return "", err
	}
	if !validHistoricalLocalpart(local) {
		return "", invalid("user ID", s, "bad localpart")
	}
	return UserID(s), nil
}

// NewUserID builds a user ID from a localpart and server name.
func NewUserID(local string, server ServerName) UserID {
	return UserID("@" + local + ":" + string(server))
}

// Localpart returns the part between '@' and the first ':'.
func (u UserID) Localpart() string {
	s := string(u)
	if i := strings.IndexByte(s, ':'); i > 0 {
		return s[1:i]
	}
	return ""
}

// Server returns the server name part.
func (u UserID) Server() ServerName {
	s := string(u)
	if i := strings.IndexByte(s, ':'); i > 0 {
		return ServerName(s[i+1:])
	}
	return ""
}

func (u UserID) String() string { return string(u) }

// RoomID is a room ID. Up to room version 11 it is !opaque:server; from
// version 12 it is !<hash> without a server part (rooms/v12).
type RoomID string

// ParseRoomID accepts both forms.
func ParseRoomID(s string) (RoomID, error) {
	if len(s) > MaxIDLength || len(s) < 2 || s[0] != '!' {
		return "", invalid("room ID", s, "must start with '!' and be at most 255 bytes")
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		if _, err := ParseServerName(s[i+1:]); err != nil {
			return "", fmt.Errorf("room ID %q: %w", s, err)
		}
	}
	return RoomID(s), nil
}

func (r RoomID) String() string { return string(r) }

// EventID is an event ID: $opaque:server (v1, v2) or $hash (v3+).
type EventID string

// ParseEventID accepts both forms.
func ParseEventID(s string) (EventID, error) {
	if len(s) > MaxIDLength || len(s) < 2 || s[0] != '$' {
		return "", invalid("event ID", s, "must start with '$' and be at most 255 bytes")
	}
	return EventID(s), nil
}

func (e EventID) String() string { return string(e) }

// RoomAlias is #alias:server.
type RoomAlias string

// ParseRoomAlias parses a room alias.
func ParseRoomAlias(s string) (RoomAlias, error) {
	local, _, err := splitID("room alias", '#', s)
	if err != nil {
		return "", err
	}
	if local == "" {
		return "", invalid("room alias", s, "empty localpart")
	}
	return RoomAlias(s), nil
}

// Server returns the server name of the alias.
func (a RoomAlias) Server() ServerName {
	s := string(a)
	return ServerName(s[strings.IndexByte(s, ':')+1:])
}

// DeviceID identifies one device (session) of a user.
type DeviceID string
