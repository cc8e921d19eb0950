package fedclient

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DNS is the part of *net.Resolver discovery uses (tests give a table).
type DNS interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
}

// Target says where and how to reach a server: dial Addr (host:port, the
// host resolved by the dialer), send Host as the Host header, and verify the
// TLS certificate for TLSName (server-server-api "Resolving server names").
type Target struct {
	Addr    string
	Host    string
	TLSName string
}

// resolver implements server discovery with a well-known cache.
type resolver struct {
	dns       DNS
	wellKnown func(ctx context.Context, hostname string) (string, time.Duration, error)
	now       func() time.Time

	mu    sync.Mutex
	cache map[string]wkEntry
}

type wkEntry struct {
	server   string // m.server, "" after an error
	expires  time.Time
	failures int
}

const defaultPort = "8448"

// splitServerName splits a server name into hostname and optional port; the
// brackets of an IPv6 literal are kept off the hostname.
func splitServerName(name string) (host, port string) {
	if strings.HasPrefix(name, "[") {
		end := strings.IndexByte(name, ']')
		if end < 0 {
			return name, ""
		}
		host, rest := name[1:end], name[end+1:]
		return host, strings.TrimPrefix(rest, ":")
	}
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		return name[:i], name[i+1:]
	}
	return name, ""
}

// resolve follows the steps of "Resolving server names" in order.
func (r *resolver) resolve(ctx context.Context, serverName string) Target {
	host, port := splitServerName(serverName)
	// Step 1: IP literal.
	if net.ParseIP(host) != nil {
		return Target{Addr: net.JoinHostPort(host, orDefault(port)), Host: serverName, TLSName: host}
	}
	// Step 2: hostname with explicit port.
	if port != "" {
		return Target{Addr: net.JoinHostPort(host, port), Host: serverName, TLSName: host}
	}
	// Step 3: /.well-known/matrix/server.
	if delegated, ok := r.lookupWellKnown(ctx, host); ok {
		return r.resolveDelegated(ctx, delegated)
	}
	// Steps 4-6: SRV records of the hostname, then port 8448.
	if addr, ok := r.srv(ctx, host); ok {
		return Target{Addr: addr, Host: host, TLSName: host}
	}
	return Target{Addr: net.JoinHostPort(host, defaultPort), Host: host, TLSName: host}
}

// resolveDelegated handles steps 3.1-3.5 for the m.server value.
func (r *resolver) resolveDelegated(ctx context.Context, delegated string) Target {
	host, port := splitServerName(delegated)
	if net.ParseIP(host) != nil {
		return Target{Addr: net.JoinHostPort(host, orDefault(port)), Host: delegated, TLSName: host}
	}
	if port != "" {
		return Target{Addr: net.JoinHostPort(host, port), Host: delegated, TLSName: host}
	}
	if addr, ok := r.srv(ctx, host); ok {
		return Target{Addr: addr, Host: host, TLSName: host}
	}
	return Target{Addr: net.JoinHostPort(host, defaultPort), Host: host, TLSName: host}
}

// srv looks up _matrix-fed._tcp, then the deprecated _matrix._tcp, and
// returns the first target by priority (net sorts by priority and weight).
func (r *resolver) srv(ctx context.Context, host string) (string, bool) {
	for _, service := range []string{"matrix-fed", "matrix"} {
		_, recs, err := r.dns.LookupSRV(ctx, service, "tcp", host)
		if err != nil || len(recs) == 0 {
			continue
		}
		rec := recs[0]
		if rec.Target == "." { // "service decidedly not available" (RFC 2782)
			continue
		}
		return net.JoinHostPort(strings.TrimSuffix(rec.Target, "."), strconv.Itoa(int(rec.Port))), true
	}
	return "", false
}

func orDefault(port string) string {
	if port == "" {
		return defaultPort
	}
	return port
}

// lookupWellKnown returns the cached or freshly fetched m.server value.
// Successes are cached as the response says (default 24h, at most 48h);
// errors for a backoff that doubles per failure up to an hour.
func (r *resolver) lookupWellKnown(ctx context.Context, host string) (string, bool) {
	now := r.now()
	r.mu.Lock()
	e, ok := r.cache[host]
	r.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.server, e.server != ""
	}
	server, ttl, err := r.wellKnown(ctx, host)
	if err != nil {
		e = wkEntry{failures: e.failures + 1}
		e.expires = now.Add(min(time.Hour, time.Minute<<min(e.failures-1, 6)))
	} else {
		e = wkEntry{server: server, expires: now.Add(ttl)}
	}
	r.mu.Lock()
	if len(r.cache) > 10000 {
		clear(r.cache) // bound memory; entries are cheap to refetch
	}
	r.cache[host] = e
	r.mu.Unlock()
	return e.server, e.server != ""
}
