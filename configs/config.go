// Package configs defines Kabar's configuration: the Config struct read from
// YAML with KABAR_* environment overrides, its defaults, Validate(), and the
// commented example that `kabar generate-config` writes out.
package configs

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Example is the fully commented example configuration.
//
//go:embed kabar.example.yaml
var Example []byte

// Config is the whole server configuration. Every field is documented in
// kabar.example.yaml.
type Config struct {
	ServerName    string        `yaml:"server_name"`
	PublicBaseURL string        `yaml:"public_baseurl"`
	DataDir       string        `yaml:"data_dir"`
	Client        Client        `yaml:"client"`
	Federation    Federation    `yaml:"federation"`
	Database      Database      `yaml:"database"`
	Registration  Registration  `yaml:"registration"`
	Login         Login         `yaml:"login"`
	RateLimits    RateLimits    `yaml:"rate_limits"`
	Rooms         Rooms         `yaml:"rooms"`
	Sync          Sync          `yaml:"sync"`
	Log           Log           `yaml:"log"`
	Metrics       Metrics       `yaml:"metrics"`
	Media         Media         `yaml:"media"`
	UserDirectory UserDirectory `yaml:"user_directory"`
	Push          Push          `yaml:"push"`
	Presence      Presence      `yaml:"presence"`
	VoIP          VoIP          `yaml:"voip"`
	// AppServiceConfigFiles are application service registration files
	// (application-service-api.md "Registration"), read at start-up.
	AppServiceConfigFiles []string `yaml:"app_service_config_files"`
}

// VoIP configures the TURN credentials handed out by
// GET /_matrix/client/v3/voip/turnServer (voip.yaml).
type VoIP struct {
	// TurnURIs are the turn:/turns: URIs; empty disables TURN.
	TurnURIs []string `yaml:"turn_uris"`
	// TurnSharedSecret is coturn's static-auth-secret: each user gets a
	// time-limited username/password (coturn's TURN REST API).
	TurnSharedSecret string `yaml:"turn_shared_secret"`
	// TurnUsername and TurnPassword are fixed credentials, used when no
	// shared secret is set.
	TurnUsername string        `yaml:"turn_username"`
	TurnPassword string        `yaml:"turn_password"`
	TurnTTL      time.Duration `yaml:"turn_ttl"`
}

// Push configures delivery to HTTP push gateways.
type Push struct {
	// OutboundAllowNetworks are CIDRs push gateways may be reached at
	// although private (tests, private deployments).
	OutboundAllowNetworks []string `yaml:"outbound_allow_networks"`
}

// Presence configures presence (online/unavailable/offline).
type Presence struct {
	// Enabled tracks and sends presence; when off the endpoints still
	// answer but nothing is tracked or sent.
	Enabled bool `yaml:"enabled"`
	// IdleTimeout turns an online user without activity unavailable.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
}

type Client struct {
	Listen          string `yaml:"listen"`
	MaxRequestBytes int64  `yaml:"max_request_bytes"`
	// TrustedProxies lists proxy CIDRs whose X-Forwarded-For is believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

type Federation struct {
	Listen  string `yaml:"listen"`
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// WellKnownServer (host:port) is advertised in /.well-known/matrix/server
	// to delegate federation; empty answers 404.
	WellKnownServer string `yaml:"well_known_server"`
	// TrustedCAFile is an extra PEM CA bundle for outbound federation TLS.
	TrustedCAFile string `yaml:"trusted_ca_file"`
	// AllowPrivateAddresses lets outbound federation reach loopback and
	// private networks (tests, private deployments).
	AllowPrivateAddresses bool `yaml:"allow_private_addresses"`
	// KeyNotaries are servers asked for other servers' signing keys when a
	// server cannot be asked directly.
	KeyNotaries []string `yaml:"key_notaries"`
	// RetryMin and RetryMax bound the exponential backoff of delivery to
	// an unreachable server.
	RetryMin time.Duration `yaml:"retry_min"`
	RetryMax time.Duration `yaml:"retry_max"`
	// CatchUpAfter is how many events may wait for one server; beyond it
	// only each room's latest is sent and the server fetches the gap.
	CatchUpAfter int `yaml:"catch_up_after"`
}

type Database struct {
	URL          string `yaml:"url"`
	MaxOpenConns int    `yaml:"max_open_conns"`
}

// Registration modes.
const (
	RegistrationDisabled = "disabled"
	RegistrationToken    = "token"
	RegistrationOpen     = "open"
)

type Registration struct {
	Mode              string   `yaml:"mode"`
	SharedSecret      string   `yaml:"shared_secret"`
	Tokens            []string `yaml:"tokens"`
	MinPasswordLength int      `yaml:"min_password_length"`
}

type Login struct {
	// AccessTokenLifetime applies to sessions that asked for a refresh token.
	AccessTokenLifetime  time.Duration `yaml:"access_token_lifetime"`
	RefreshTokenLifetime time.Duration `yaml:"refresh_token_lifetime"`
	TokenLogin           bool          `yaml:"token_login"`
	JWT                  JWT           `yaml:"jwt"`
}

type JWT struct {
	Enabled bool `yaml:"enabled"`
	// Secret is the HMAC key (HS*); PublicKeyFile a PEM RSA/EC/Ed25519 key.
	Secret        string   `yaml:"secret"`
	PublicKeyFile string   `yaml:"public_key_file"`
	Algorithms    []string `yaml:"algorithms"`
	Issuer        string   `yaml:"issuer"`
	Audiences     []string `yaml:"audiences"`
	SubjectClaim  string   `yaml:"subject_claim"`
	AutoCreate    bool     `yaml:"auto_create"`
}

type RateLimits struct {
	Enabled      bool      `yaml:"enabled"`
	Login        RateLimit `yaml:"login"`
	Registration RateLimit `yaml:"registration"`
	Message      RateLimit `yaml:"message"`
	// MediaUpload limits uploads (and /create) per user: a separate bucket
	// from messages, since a photo album arrives as a burst of uploads.
	MediaUpload RateLimit `yaml:"media_upload"`
}

// RateLimit is a token bucket: PerSecond tokens refill, Burst at most.
type RateLimit struct {
	PerSecond float64 `yaml:"per_second"`
	Burst     int     `yaml:"burst"`
}

type Rooms struct {
	DefaultVersion string `yaml:"default_version"`
}

// Sync configures /sync and the features beside the timeline.
type Sync struct {
	// MaxTimeout clamps the long-poll timeout clients ask for.
	MaxTimeout time.Duration `yaml:"max_timeout"`
}

// UserDirectory configures POST /user_directory/search.
type UserDirectory struct {
	// SearchAllUsers lists every local user; otherwise only users who share
	// a room with the searcher or are in a public room.
	SearchAllUsers bool `yaml:"search_all_users"`
}

type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

type Metrics struct {
	Enabled bool `yaml:"enabled"`
}

// Legacy unauthenticated media modes (content_repo.md, the 1.12 freeze).
const (
	MediaLegacyServe  = "serve"
	MediaLegacyFreeze = "freeze"
)

// Media configures the content repository.
type Media struct {
	// Path holds media files; empty: <data_dir>/media.
	Path           string `yaml:"path"`
	MaxUploadBytes int64  `yaml:"max_upload_bytes"`
	// LegacyUnauthenticated is MediaLegacyServe or MediaLegacyFreeze;
	// LegacyFreezeTime (RFC 3339) is when the freeze began, empty for
	// "always frozen".
	LegacyUnauthenticated string `yaml:"legacy_unauthenticated"`
	LegacyFreezeTime      string `yaml:"legacy_freeze_time"`
	URLPreviews           bool   `yaml:"url_previews"`
	// RemoteCacheRetention drops unused cached remote media; 0 keeps it.
	RemoteCacheRetention time.Duration `yaml:"remote_cache_retention"`
	MaxThumbnailPixels   int64         `yaml:"max_thumbnail_pixels"`
	// MaxBytesPerUser caps the bytes a local user may have uploaded in all;
	// 0 is unlimited.
	MaxBytesPerUser int64 `yaml:"max_bytes_per_user"`
	// OutboundAllowNetworks are CIDRs URL previews may reach although private.
	OutboundAllowNetworks []string `yaml:"outbound_allow_networks"`
}

// MediaPath is where media files live.
func (c *Config) MediaPath() string {
	if c.Media.Path != "" {
		return c.Media.Path
	}
	return filepath.Join(c.DataDir, "media")
}

// Default returns the configuration used when nothing is configured: a
// server for "localhost" on 127.0.0.1:8008 with SQLite under ./data.
func Default() *Config {
	return &Config{
		ServerName:   "localhost",
		DataDir:      "./data",
		Client:       Client{Listen: "127.0.0.1:8008", MaxRequestBytes: 1 << 20},
		Database:     Database{MaxOpenConns: 20},
		Registration: Registration{Mode: RegistrationDisabled, MinPasswordLength: 8},
		Login: Login{
			AccessTokenLifetime:  5 * time.Minute,
			RefreshTokenLifetime: 0,
			TokenLogin:           true,
			JWT:                  JWT{Algorithms: []string{"HS256"}, SubjectClaim: "sub"},
		},
		RateLimits: RateLimits{
			Enabled:      true,
			Login:        RateLimit{PerSecond: 0.5, Burst: 5},
			Registration: RateLimit{PerSecond: 0.2, Burst: 5},
			Message:      RateLimit{PerSecond: 10, Burst: 50},
			MediaUpload:  RateLimit{PerSecond: 1, Burst: 20},
		},
		Rooms:    Rooms{DefaultVersion: "12"},
		Sync:     Sync{MaxTimeout: 2 * time.Minute},
		Presence: Presence{Enabled: true, IdleTimeout: 5 * time.Minute},
		VoIP:     VoIP{TurnURIs: []string{}, TurnTTL: 24 * time.Hour},
		Log:      Log{Level: "info", Format: "text"},
		Metrics:  Metrics{Enabled: true},
		Media: Media{MaxUploadBytes: 100 << 20, LegacyUnauthenticated: MediaLegacyFreeze, URLPreviews: true,
			RemoteCacheRetention: 30 * 24 * time.Hour, MaxThumbnailPixels: 40_000_000},
		Federation: Federation{RetryMin: 2 * time.Second, RetryMax: time.Hour, CatchUpAfter: 1000},

		AppServiceConfigFiles: []string{},
	}
}

// Load reads the YAML file at path (if path is not empty) over the defaults,
// then applies KABAR_* overrides from env (os.Getenv when nil). It does not
// validate; call Validate.
func Load(path string, env func(string) string) (*Config, error) {
	cfg := Default()
	if env == nil {
		env = os.Getenv
	}
	if path == "" {
		path = env("KABAR_CONFIG")
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("parse config %s: %w", path, err)
		}
	}
	if err := applyEnv(cfg, env); err != nil {
		return nil, err
	}
	return cfg, nil
}

// applyEnv applies the documented KABAR_* environment variables.
func applyEnv(cfg *Config, env func(string) string) error {
	str := map[string]*string{
		"KABAR_SERVER_NAME":                &cfg.ServerName,
		"KABAR_PUBLIC_BASEURL":             &cfg.PublicBaseURL,
		"KABAR_CLIENT_ADDR":                &cfg.Client.Listen,
		"KABAR_FEDERATION_ADDR":            &cfg.Federation.Listen,
		"KABAR_FEDERATION_TLS_CERT":        &cfg.Federation.TLSCert,
		"KABAR_FEDERATION_TLS_KEY":         &cfg.Federation.TLSKey,
		"KABAR_FEDERATION_WELL_KNOWN":      &cfg.Federation.WellKnownServer,
		"KABAR_DATA_DIR":                   &cfg.DataDir,
		"KABAR_DATABASE_URL":               &cfg.Database.URL,
		"KABAR_REGISTRATION":               &cfg.Registration.Mode,
		"KABAR_REGISTRATION_SHARED_SECRET": &cfg.Registration.SharedSecret,
		"KABAR_LOG_LEVEL":                  &cfg.Log.Level,
		"KABAR_LOG_FORMAT":                 &cfg.Log.Format,
		"KABAR_JWT_SECRET":                 &cfg.Login.JWT.Secret,
		"KABAR_TURN_SHARED_SECRET":         &cfg.VoIP.TurnSharedSecret,
	}
	for name, p := range str {
		if v, ok := lookup(env, name); ok {
			*p = v
		}
	}
	if v, ok := lookup(env, "KABAR_RATE_LIMITS"); ok {
		switch strings.ToLower(v) {
		case "on", "true", "1":
			cfg.RateLimits.Enabled = true
		case "off", "false", "0":
			cfg.RateLimits.Enabled = false
		default:
			return fmt.Errorf("KABAR_RATE_LIMITS=%q: want on or off", v)
		}
	}
	if v, ok := lookup(env, "KABAR_REGISTRATION_TOKENS"); ok {
		cfg.Registration.Tokens = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	}
	return nil
}

func lookup(env func(string) string, name string) (string, bool) {
	v := env(name)
	return v, v != ""
}

// DatabaseURL returns the configured database, defaulting to an SQLite file
// in the data directory.
func (c *Config) DatabaseURL() string {
	if c.Database.URL != "" {
		return c.Database.URL
	}
	return filepath.Join(c.DataDir, "kabar.db")
}

// Validate reports every problem at once, joined.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.ServerName == "" {
		bad("server_name: must be set (KABAR_SERVER_NAME)")
	} else if strings.ContainsAny(c.ServerName, "/ @#!$") {
		bad("server_name %q: must be a host name with an optional :port", c.ServerName)
	}
	if _, _, err := net.SplitHostPort(c.Client.Listen); err != nil {
		bad("client.listen %q: want host:port (KABAR_CLIENT_ADDR): %v", c.Client.Listen, err)
	}
	if c.Federation.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Federation.Listen); err != nil {
			bad("federation.listen %q: want host:port (KABAR_FEDERATION_ADDR): %v", c.Federation.Listen, err)
		}
		if (c.Federation.TLSCert == "") != (c.Federation.TLSKey == "") {
			bad("federation: tls_cert and tls_key must be set together")
		}
		if w := c.Federation.WellKnownServer; w != "" && strings.ContainsAny(w, "/ @") {
			bad("federation.well_known_server %q: want host or host:port", w)
		}
	}
	if c.Federation.RetryMin <= 0 || c.Federation.RetryMax < c.Federation.RetryMin {
		bad("federation: retry_min must be positive and at most retry_max")
	}
	if c.Federation.CatchUpAfter < 1 {
		bad("federation.catch_up_after %d: must be at least 1", c.Federation.CatchUpAfter)
	}
	for _, n := range c.Federation.KeyNotaries {
		if strings.TrimSpace(n) == "" || strings.ContainsAny(n, "/ ") {
			bad("federation.key_notaries: %q is not a server name", n)
		}
	}
	if c.Client.MaxRequestBytes < 1024 {
		bad("client.max_request_bytes %d: must be at least 1024", c.Client.MaxRequestBytes)
	}
	if c.DataDir == "" {
		bad("data_dir: must be set (KABAR_DATA_DIR)")
	}
	if c.Database.MaxOpenConns < 1 {
		bad("database.max_open_conns %d: must be at least 1", c.Database.MaxOpenConns)
	}
	switch c.Registration.Mode {
	case RegistrationDisabled, RegistrationOpen, RegistrationToken:
		// Token mode with no configured tokens is fine: an admin creates
		// them with /_synapse/admin/v1/registration_tokens.
	default:
		bad("registration.mode %q: want disabled, token or open (KABAR_REGISTRATION)", c.Registration.Mode)
	}
	for i, f := range c.AppServiceConfigFiles {
		if strings.TrimSpace(f) == "" {
			bad("app_service_config_files[%d]: empty path", i)
		}
	}
	if c.Registration.MinPasswordLength < 0 {
		bad("registration.min_password_length must not be negative")
	}
	if c.Login.AccessTokenLifetime < time.Minute {
		bad("login.access_token_lifetime %s: must be at least 1m", c.Login.AccessTokenLifetime)
	}
	if j := c.Login.JWT; j.Enabled {
		if (j.Secret == "") == (j.PublicKeyFile == "") {
			bad("login.jwt: set exactly one of secret and public_key_file")
		}
		if len(j.Algorithms) == 0 {
			bad("login.jwt.algorithms: list at least one algorithm")
		}
		for _, a := range j.Algorithms {
			if strings.EqualFold(a, "none") {
				bad("login.jwt.algorithms: \"none\" is never allowed")
			}
			if strings.HasPrefix(a, "HS") && j.Secret == "" {
				bad("login.jwt.algorithms: %s needs login.jwt.secret", a)
			}
			if !strings.HasPrefix(a, "HS") && j.PublicKeyFile == "" {
				bad("login.jwt.algorithms: %s needs login.jwt.public_key_file", a)
			}
		}
		if j.SubjectClaim == "" {
			bad("login.jwt.subject_claim: must be set")
		}
	}
	for name, rl := range map[string]RateLimit{"login": c.RateLimits.Login, "registration": c.RateLimits.Registration,
		"message": c.RateLimits.Message, "media_upload": c.RateLimits.MediaUpload} {
		if c.RateLimits.Enabled && (rl.PerSecond <= 0 || rl.Burst < 1) {
			bad("rate_limits.%s: per_second must be > 0 and burst >= 1", name)
		}
	}
	c.validateMedia(bad)
	c.validateVoIP(bad)
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level %q: want debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format %q: want text or json", c.Log.Format)
	}
	return errors.Join(errs...)
}

func (c *Config) validateMedia(bad func(string, ...any)) {
	m := c.Media
	if m.MaxUploadBytes < 1 {
		bad("media.max_upload_bytes %d: must be at least 1", m.MaxUploadBytes)
	}
	switch m.LegacyUnauthenticated {
	case MediaLegacyServe, MediaLegacyFreeze:
	default:
		bad("media.legacy_unauthenticated %q: want serve or freeze", m.LegacyUnauthenticated)
	}
	if m.LegacyFreezeTime != "" {
		if _, err := time.Parse(time.RFC3339, m.LegacyFreezeTime); err != nil {
			bad("media.legacy_freeze_time %q: want an RFC 3339 time: %v", m.LegacyFreezeTime, err)
		}
	}
	if m.RemoteCacheRetention < 0 || m.MaxThumbnailPixels < 1 || m.MaxBytesPerUser < 0 {
		bad("media: remote_cache_retention and max_bytes_per_user must not be negative and max_thumbnail_pixels must be positive")
	}
	for _, n := range m.OutboundAllowNetworks {
		if _, err := netip.ParsePrefix(n); err != nil {
			bad("media.outbound_allow_networks: %q is not a CIDR", n)
		}
	}
}

func (c *Config) validateVoIP(bad func(string, ...any)) {
	v := c.VoIP
	for _, u := range v.TurnURIs {
		if !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
			bad("voip.turn_uris: %q must start with turn: or turns:", u)
		}
	}
	if len(v.TurnURIs) > 0 && v.TurnSharedSecret == "" && (v.TurnUsername == "" || v.TurnPassword == "") {
		bad("voip: turn_uris needs turn_shared_secret or both turn_username and turn_password")
	}
	if v.TurnTTL < time.Minute {
		bad("voip.turn_ttl %s: must be at least 1m", v.TurnTTL)
	}
}
