// Package fedclient makes outbound server-server requests: server discovery,
// TLS verified against the system roots plus an optional extra CA, a dialer
// that refuses private addresses unless allowed, and X-Matrix signing.
package fedclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/kabarchat/kabar/federation/keys"
)

// Options configures a Client.
type Options struct {
	// ServerName and Key sign our requests.
	ServerName string
	Key        *keys.SigningKey
	// TrustedCAFile is an extra PEM CA bundle trusted besides the system
	// roots (and SSL_CERT_FILE, which Go's system pool honours).
	TrustedCAFile string
	// AllowPrivateAddresses lets the dialer connect to loopback, private and
	// link-local addresses (test and private networks only).
	AllowPrivateAddresses bool
	// DNS for SRV lookups; net.DefaultResolver if nil.
	DNS DNS
	// Timeout bounds one whole request (default 30s); streamed responses
	// (GetStream) are bounded by StreamIdleTimeout instead.
	Timeout time.Duration
	// StreamIdleTimeout is how long a streamed body may stay silent
	// (default 30s).
	StreamIdleTimeout time.Duration
	Logger            *slog.Logger
	Now               func() time.Time
}

// Client is the federation HTTP client.
type Client struct {
	opts     Options
	http     *http.Client
	resolver *resolver
	log      *slog.Logger
}

// New builds a client.
func New(opts Options) (*Client, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DNS == nil {
		opts.DNS = net.DefaultResolver
	}
	roots, err := rootPool(opts.TrustedCAFile)
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !opts.AllowPrivateAddresses {
		d.Control = refusePrivate
	}
	tr := &http.Transport{
		DialContext:           dialTarget(d),
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 20 * time.Second,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	c := &Client{opts: opts, log: opts.Logger, http: &http.Client{Transport: tr, Timeout: opts.Timeout}}
	c.resolver = &resolver{dns: opts.DNS, wellKnown: c.fetchWellKnown, now: opts.Now, cache: map[string]wkEntry{}}
	return c, nil
}

// rootPool is the system pool (which reads SSL_CERT_FILE) plus caFile.
func rootPool(caFile string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if caFile == "" {
		return pool, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("federation trusted CA file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("federation trusted CA file %s has no PEM certificates", caFile)
	}
	return pool, nil
}

// dialAddrKey carries the discovered address to the dialer: the URL keeps
// the server name (for the Host header, TLS name and connection pooling)
// while the connection goes where discovery said.
type dialAddrKey struct{}

func dialTarget(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if a, ok := ctx.Value(dialAddrKey{}).(string); ok {
			addr = a
		}
		return d.DialContext(ctx, network, addr)
	}
}

// ErrPrivateAddress: the destination resolved to an address we refuse.
var ErrPrivateAddress = errors.New("refusing to connect to a private address")

// refusePrivate runs on the resolved IP, just before connecting, so a DNS
// answer cannot sneak a private address past it.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || isPrivate(ip) {
		return fmt.Errorf("%w: %s", ErrPrivateAddress, address)
	}
	return nil
}

var cgnat = &net.IPNet{IP: net.IPv4(100, 64, 0, 0), Mask: net.CIDRMask(10, 32)}

func isPrivate(ip net.IP) bool {
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || cgnat.Contains(ip)
}
