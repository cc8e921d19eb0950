// Package appservice implements the homeserver side of the Application
// Service API (application-service-api.md): registration files, namespace
// matching, pushing events to each application service as durable
// transactions, and the user/alias queries and pings the homeserver sends it.
// The client-server extensions (identity assertion, m.login.application_service,
// timestamp massaging, exclusive namespaces) live in clientapi and authn and
// ask this package's Registry.
package appservice

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/kabarchat/kabar/models/spec"
)

// Registration is one application service's registration file
// (application-service-api.md "Registration", definitions/registration.yaml).
type Registration struct {
	ID string `yaml:"id"`
	// URL is where the homeserver reaches the service; nil (null in YAML)
	// or empty means it receives no transactions, queries or pings.
	URL             *string    `yaml:"url"`
	ASToken         string     `yaml:"as_token"`
	HSToken         string     `yaml:"hs_token"`
	SenderLocalpart string     `yaml:"sender_localpart"`
	Namespaces      Namespaces `yaml:"namespaces"`
	// RateLimited is whether masqueraded users are rate-limited (the
	// sender never is); absent means true.
	RateLimited *bool    `yaml:"rate_limited"`
	Protocols   []string `yaml:"protocols"`
	// ReceiveEphemeral asks for receipts, typing and presence in the
	// transactions' ephemeral list (registration.yaml receive_ephemeral,
	// MSC2409); bridges still write the unstable key, which Synapse
	// honours too.
	ReceiveEphemeral         bool `yaml:"receive_ephemeral"`
	ReceiveEphemeralUnstable bool `yaml:"de.sorunome.msc2409.push_ephemeral"`

	// Sender is the sender_localpart's user ID on this server.
	Sender spec.UserID `yaml:"-"`
	// File is where the registration was read from (for messages).
	File string `yaml:"-"`

	known knownUsers
}

// knownUsers remembers namespace users seen registered, so masquerading
// as them costs no database read per request. Accounts are never deleted
// (deactivated IDs stay taken), so an entry never goes stale; the set is
// bounded by starting over when full.
type knownUsers struct {
	mu    sync.Mutex
	users map[spec.UserID]struct{}
}

const maxKnownUsers = 100_000

// Known reports whether user was remembered as registered.
func (r *Registration) Known(user spec.UserID) bool {
	r.known.mu.Lock()
	defer r.known.mu.Unlock()
	_, ok := r.known.users[user]
	return ok
}

// Remember records that user is registered.
func (r *Registration) Remember(user spec.UserID) {
	r.known.mu.Lock()
	defer r.known.mu.Unlock()
	if r.known.users == nil || len(r.known.users) >= maxKnownUsers {
		r.known.users = map[spec.UserID]struct{}{}
	}
	r.known.users[user] = struct{}{}
}

// Namespaces are the user ID, room alias and room ID namespaces.
type Namespaces struct {
	Users   []Namespace `yaml:"users"`
	Aliases []Namespace `yaml:"aliases"`
	Rooms   []Namespace `yaml:"rooms"`
}

// Namespace is one regular expression a service claims, exclusively or not.
type Namespace struct {
	Exclusive bool   `yaml:"exclusive"`
	Regex     string `yaml:"regex"`
	re        *regexp.Regexp
}

// String keeps tokens out of logs (DESIGN.md: secrets redact themselves).
func (r *Registration) String() string { return fmt.Sprintf("appservice %q", r.ID) }

// BaseURL is the service's URL without a trailing slash, "" when it has none.
func (r *Registration) BaseURL() string {
	if r.URL == nil {
		return ""
	}
	return strings.TrimRight(*r.URL, "/")
}

// Ephemeral reports whether the service receives ephemeral events.
func (r *Registration) Ephemeral() bool { return r.ReceiveEphemeral || r.ReceiveEphemeralUnstable }

// IsRateLimited reports whether the service's masqueraded users are
// rate-limited.
func (r *Registration) IsRateLimited() bool { return r.RateLimited == nil || *r.RateLimited }

// Load reads and validates the registration files; the error lists every
// problem of every file, each with its file, for the operator.
func Load(paths []string, server spec.ServerName) ([]*Registration, error) {
	var regs []*Registration
	var errs []error
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("app service registration: %w", err))
			continue
		}
		r, err := Parse(data, server)
		if err != nil {
			errs = append(errs, fmt.Errorf("app service registration %s: %w", p, err))
			continue
		}
		r.File = p
		regs = append(regs, r)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := checkUnique(regs); err != nil {
		return nil, err
	}
	return regs, nil
}

// Parse decodes and validates one registration. Unknown keys are allowed:
// bridges write vendor extensions (org.matrix.msc3202, ...) that this
// server does not act on.
func Parse(data []byte, server spec.ServerName) (*Registration, error) {
	var r Registration
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&r); err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(r.ID) == "" {
		bad("id: must be set")
	}
	if r.ASToken == "" {
		bad("as_token: must be set")
	}
	if r.HSToken == "" {
		bad("hs_token: must be set")
	}
	if r.ASToken != "" && r.ASToken == r.HSToken {
		bad("as_token and hs_token must differ")
	}
	if !spec.ValidLocalpart(r.SenderLocalpart) {
		bad("sender_localpart %q: must be a valid user localpart (a-z 0-9 . _ = - / +)", r.SenderLocalpart)
	} else {
		r.Sender = spec.NewUserID(r.SenderLocalpart, server)
	}
	if u := r.BaseURL(); u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad("url %q: want an http(s) URL, or null for a service that receives nothing", u)
		}
	}
	for _, ns := range []struct {
		name string
		list []Namespace
	}{{"users", r.Namespaces.Users}, {"aliases", r.Namespaces.Aliases}, {"rooms", r.Namespaces.Rooms}} {
		for i := range ns.list {
			if err := ns.list[i].compile(); err != nil {
				bad("namespaces.%s[%d]: %v", ns.name, i, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &r, nil
}

// compile anchors the regex at the start, as Synapse and bridges expect
// (Python's re.match); most registrations anchor both ends themselves.
func (n *Namespace) compile() error {
	if n.Regex == "" {
		return errors.New("regex: must be set")
	}
	re, err := regexp.Compile("^(?:" + n.Regex + ")")
	if err != nil {
		return fmt.Errorf("regex %q is not a valid regular expression: %v", n.Regex, err)
	}
	n.re = re
	return nil
}

// checkUnique refuses two registrations sharing an id, an as_token or an
// hs_token: tokens identify services, so sharing one would mix them up.
func checkUnique(regs []*Registration) error {
	var errs []error
	ids, tokens := map[string]string{}, map[string]string{}
	for _, r := range regs {
		if f, dup := ids[r.ID]; dup {
			errs = append(errs, fmt.Errorf("app service registrations %s and %s share the id %q", f, r.File, r.ID))
		}
		ids[r.ID] = r.File
		for _, t := range []string{r.ASToken, r.HSToken} {
			if f, dup := tokens[t]; dup {
				errs = append(errs, fmt.Errorf("app service registrations %s and %s share a token (as_token/hs_token must be unique)", f, r.File))
			}
			tokens[t] = r.File
		}
	}
	return errors.Join(errs...)
}
