package media

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrAddressRefused is returned when an outbound request would reach an
// address the server must not touch on a user's behalf.
var ErrAddressRefused = errors.New("destination address is not allowed")

// refusedPrefixes are special-purpose ranges (RFC 6890 and friends) beyond
// what netip's Is* predicates catch.
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64 can map to private IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("2002::/16"), // 6to4 embeds any IPv4
}

// AddressAllowed reports whether an outbound connection to ip may be made:
// public unicast addresses always, private and special ones only when an
// allow-list prefix contains them.
func AddressAllowed(ip netip.Addr, allow []netip.Prefix) bool {
	ip = ip.Unmap()
	for _, p := range allow {
		if p.Contains(ip) {
			return true
		}
	}
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsUnspecified() || ip == netip.IPv4Unspecified() {
		return false
	}
	if ip.Is4() && ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return false
	}
	for _, p := range refusedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// newOutboundClient returns the HTTP client for URL previews and remote
// media redirects. The check runs in the dialer's Control hook, on the
// address actually being connected to after DNS resolution: every redirect
// hop and every DNS answer (rebinding included) is checked, not just the
// first host name. No proxy from the environment is used: it would hide the
// real destination from the check.
func newOutboundClient(allow []netip.Prefix, timeout time.Duration) *http.Client {
	d := GuardedDialer(allow)
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            func(ctx context.Context, n, a string) (net.Conn, error) { return d.DialContext(ctx, n, a) },
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  15 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConns:           16,
		IdleConnTimeout:        30 * time.Second,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return errors.New("redirect to a non-http URL")
			}
			return nil
		},
	}
}

// GuardedDialer returns a dialer that refuses, in its Control hook, any
// address AddressAllowed rejects: the check sees the address actually
// dialled after DNS resolution, so every redirect hop and DNS answer is
// covered. Shared by URL previews and push gateway delivery.
func GuardedDialer(allow []netip.Prefix) *net.Dialer {
	return &net.Dialer{
		Timeout: 10 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrAddressRefused, address)
			}
			if !AddressAllowed(ap.Addr(), allow) {
				return fmt.Errorf("%w: %s", ErrAddressRefused, ap.Addr())
			}
			return nil
		},
	}
}
