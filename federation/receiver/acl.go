package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"

	"github.com/kabarchat/kabar/models/spec"
)

// aclContent is m.room.server_acl's content (client-server-api "Server
// Access Control Lists (ACLs) for rooms").
type aclContent struct {
	Allow           []string `json:"allow"`
	Deny            []string `json:"deny"`
	AllowIPLiterals *bool    `json:"allow_ip_literals"`
}

// checkACL answers 403 M_FORBIDDEN when the room's server ACL denies origin
// (server-server-api "Server Access Control Lists (ACLs)"). A room without
// an ACL, or one we do not know, allows everyone.
func (r *Receiver) checkACL(ctx context.Context, roomID string, origin spec.ServerName) error {
	ev, err := r.opts.Rooms.StateEvent(ctx, spec.RoomID(roomID), "m.room.server_acl", "")
	if err != nil {
		var me *spec.Error
		if errors.As(err, &me) && me.Status == 404 {
			return nil
		}
		return err
	}
	var acl aclContent
	if err := json.Unmarshal(ev.Content(), &acl); err != nil {
		return nil // a malformed ACL is ignored, as clients would see it
	}
	if !aclAllows(acl, string(origin)) {
		return spec.Forbidden("server %s is denied by the room's server ACL", origin)
	}
	return nil
}

// aclAllows applies the rules in order: IP literals (if not allowed), then
// deny, then allow; anything not allowed is denied. Ports are ignored.
func aclAllows(acl aclContent, server string) bool {
	host := server
	if h, _, err := net.SplitHostPort(server); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if acl.AllowIPLiterals != nil && !*acl.AllowIPLiterals && net.ParseIP(host) != nil {
		return false
	}
	for _, g := range acl.Deny {
		if globMatch(strings.ToLower(g), strings.ToLower(host)) {
			return false
		}
	}
	for _, g := range acl.Allow {
		if globMatch(strings.ToLower(g), strings.ToLower(host)) {
			return true
		}
	}
	return false
}

// globMatch matches '*' (any run) and '?' (one character), iteratively so
// a hostile pattern cannot make it blow up.
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
