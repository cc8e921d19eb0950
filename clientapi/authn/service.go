package authn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kabarchat/kabar/appservice"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// Store is what the accounts service needs from storage; *store.Store
// satisfies it (checked in server).
type Store interface {
	CreateUser(ctx context.Context, u *models.User, p *models.Profile) error
	GetUser(ctx context.Context, userID string) (*models.User, error)
	UserExists(ctx context.Context, userID string) (bool, error)
	SetPasswordHash(ctx context.Context, userID, hash string) error
	DeactivateUser(ctx context.Context, userID string) error
	SetUserAdmin(ctx context.Context, userID string, admin bool) error
	CreateSession(ctx context.Context, d models.Device, access models.AccessToken, refresh *models.RefreshToken) error
	GetAccessToken(ctx context.Context, hash string) (*models.AccessTokenInfo, error)
	GetRefreshToken(ctx context.Context, hash string) (*models.RefreshToken, error)
	RotateRefreshToken(ctx context.Context, oldHash string, next *models.RefreshToken, access *models.AccessToken) error
	RevokePredecessor(ctx context.Context, hash string) error
	DeleteDevices(ctx context.Context, userID string, deviceIDs []string) error
	DeleteAllDevices(ctx context.Context, userID, keep string) error
	CreateLoginToken(ctx context.Context, lt *models.LoginToken) error
	ConsumeLoginToken(ctx context.Context, hash string, now time.Time) (string, error)
}

// Options configures the accounts service.
type Options struct {
	Store      Store
	ServerName spec.ServerName
	// AccessTokenLifetime applies to sessions that asked for a refresh token.
	AccessTokenLifetime time.Duration
	// RefreshTokenLifetime is 0 for refresh tokens that live until used.
	RefreshTokenLifetime time.Duration
	// LoginTokenLifetime bounds m.login.token tokens (default 2 minutes).
	LoginTokenLifetime time.Duration
	Argon2             Argon2Params
	MinPasswordLength  int
	// RegistrationTokens are accepted by the m.login.registration_token stage.
	RegistrationTokens []string
	// TokenStore holds the admin API's registration tokens; nil: only the
	// configured ones are accepted.
	TokenStore TokenStore
	// JWT enables org.matrix.login.jwt when not nil.
	JWT *JWTOptions
	// AppServices are the registered application services (appservice.go);
	// nil: none.
	AppServices *appservice.Registry
	// TokenCacheSize bounds the access-token cache (default 10000).
	TokenCacheSize int
	Logger         *slog.Logger
	Now            func() time.Time
}

// Service is the accounts service: it creates accounts and sessions and
// answers "whose token is this?".
type Service struct {
	opts  Options
	store Store
	log   *slog.Logger
	cache *tokenCache
	uia   *uiaSessions
	jwt   *jwtVerifier
	// dummyHash is verified against when the user does not exist, so a
	// wrong user name costs as long as a wrong password. It is made on first
	// use: hashing at start-up would cost start time and ~20 MB of idle heap.
	dummyOnce sync.Once
	dummyHash string
	dummyErr  error
}

// New builds the service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.ServerName == "" {
		return nil, errors.New("authn: Store and ServerName are required")
	}
	if opts.Argon2 == (Argon2Params{}) {
		opts.Argon2 = DefaultArgon2
	}
	if opts.LoginTokenLifetime == 0 {
		opts.LoginTokenLifetime = 2 * time.Minute
	}
	if opts.AccessTokenLifetime == 0 {
		opts.AccessTokenLifetime = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{opts: opts, store: opts.Store, log: opts.Logger, cache: newTokenCache(opts.TokenCacheSize),
		uia: newUIASessions(opts.Now)}
	if opts.JWT != nil {
		v, err := newJWTVerifier(*opts.JWT, opts.Now)
		if err != nil {
			return nil, err
		}
		s.jwt = v
	}
	return s, nil
}

// ServerName is the server the accounts live on.
func (s *Service) ServerName() spec.ServerName { return s.opts.ServerName }

// JWTEnabled reports whether org.matrix.login.jwt is offered.
func (s *Service) JWTEnabled() bool { return s.jwt != nil }

// ValidateLocalpart checks a desired localpart against the user ID grammar
// (appendices "User Identifiers": a-z 0-9 . _ = - / +, at most 255 bytes for
// the whole ID).
func (s *Service) ValidateLocalpart(local string) (spec.UserID, error) {
	if !spec.ValidLocalpart(local) {
		return "", spec.NewError(http.StatusBadRequest, spec.ErrInvalidUsername,
			"user names may only contain a-z, 0-9 and . _ = - / +")
	}
	id := spec.NewUserID(local, s.opts.ServerName)
	if len(id) > spec.MaxIDLength {
		return "", spec.NewError(http.StatusBadRequest, spec.ErrInvalidUsername, "user ID would be longer than 255 bytes")
	}
	return id, nil
}

// CheckAvailable is M_USER_IN_USE when the user ID was ever registered
// (deactivated IDs are never reused).
func (s *Service) CheckAvailable(ctx context.Context, id spec.UserID) error {
	exists, err := s.store.UserExists(ctx, string(id))
	if err != nil {
		return err
	}
	if exists {
		return spec.NewError(http.StatusBadRequest, spec.ErrUserInUse, "user ID already taken")
	}
	return nil
}

// CheckPasswordStrength refuses passwords shorter than the configured minimum.
func (s *Service) CheckPasswordStrength(pw string) error {
	if utf8.RuneCountInString(pw) < s.opts.MinPasswordLength {
		return spec.NewError(http.StatusBadRequest, spec.ErrWeakPassword,
			"password must be at least %d characters", s.opts.MinPasswordLength)
	}
	return nil
}

// NewAccount describes an account to create.
type NewAccount struct {
	Localpart string
	// Password may be empty: the account then cannot log in with a password.
	Password string
	Admin    bool
	UserType string
	// DisplayName defaults to the localpart.
	DisplayName string
	// AppService is the application service the account is made for (nil:
	// anyone else). Only it may take a user ID in its own exclusive
	// namespace: every other creator (registration, JWT auto-create,
	// shared-secret and admin registration, the CLI) gets 400 M_EXCLUSIVE,
	// as Synapse's register_user does on all of these paths
	// (application-service-api.md "Registration": exclusive namespaces).
	AppService *appservice.Registration
}

// CreateAccount validates and stores a new account.
func (s *Service) CreateAccount(ctx context.Context, na NewAccount) (spec.UserID, error) {
	id, err := s.ValidateLocalpart(na.Localpart)
	if err != nil {
		return "", err
	}
	if err := s.CheckNotExclusive(id, na.AppService); err != nil {
		return "", err
	}
	hash := ""
	if na.Password != "" {
		if hash, err = HashPassword(na.Password, s.opts.Argon2); err != nil {
			return "", err
		}
	}
	if na.DisplayName == "" {
		na.DisplayName = na.Localpart
	}
	u := &models.User{UserID: string(id), Localpart: na.Localpart, PasswordHash: hash, IsAdmin: na.Admin,
		UserType: na.UserType, CreatedAt: s.opts.Now().UnixMilli()}
	err = s.store.CreateUser(ctx, u, &models.Profile{UserID: string(id), DisplayName: na.DisplayName})
	if errors.Is(err, models.ErrConflict) {
		return "", spec.NewError(http.StatusBadRequest, spec.ErrUserInUse, "user ID already taken")
	}
	if err != nil {
		return "", err
	}
	s.log.Info("account created", "user_id", id, "admin", na.Admin)
	return id, nil
}

// ResolveUser turns what a client typed (localpart or full user ID) into a
// local user ID. Remote or malformed IDs are refused like wrong passwords.
func (s *Service) ResolveUser(user string) (spec.UserID, error) {
	forbidden := spec.Forbidden("invalid user name or password")
	if strings.HasPrefix(user, "@") {
		id, err := spec.ParseUserID(user)
		if err != nil || id.Server() != s.opts.ServerName {
			return "", forbidden
		}
		user = id.Localpart()
	}
	// Accounts are created lower-case only, so matching case-insensitively
	// is what users expect and cannot hit someone else's account.
	user = strings.ToLower(user)
	if user == "" || !spec.ValidLocalpart(user) {
		return "", forbidden
	}
	return spec.NewUserID(user, s.opts.ServerName), nil
}

// CheckPassword verifies a user's password: 403 M_FORBIDDEN for an unknown
// user or wrong password (indistinguishable, and taking the same time), 403
// M_USER_DEACTIVATED for a deactivated account.
func (s *Service) CheckPassword(ctx context.Context, id spec.UserID, password string) (*models.User, error) {
	u, err := s.store.GetUser(ctx, string(id))
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	var hash string
	if u != nil && u.PasswordHash != "" {
		hash = u.PasswordHash
	} else {
		s.dummyOnce.Do(func() { s.dummyHash, s.dummyErr = HashPassword("kabar-dummy-password", s.opts.Argon2) })
		if s.dummyErr != nil {
			return nil, s.dummyErr
		}
		hash = s.dummyHash
	}
	match, verr := VerifyPassword(password, hash)
	if verr != nil {
		return nil, fmt.Errorf("verify password of %s: %w", id, verr)
	}
	if u == nil || u.PasswordHash == "" || !match {
		return nil, spec.Forbidden("invalid user name or password")
	}
	if u.Deactivated {
		return nil, spec.NewError(http.StatusForbidden, spec.ErrUserDeactivated, "this account has been deactivated")
	}
	return u, nil
}

// activeUser loads a user that may log in by means other than a password.
func (s *Service) activeUser(ctx context.Context, id spec.UserID) (*models.User, error) {
	u, err := s.store.GetUser(ctx, string(id))
	if errors.Is(err, models.ErrNotFound) {
		return nil, spec.Forbidden("unknown user")
	}
	if err != nil {
		return nil, err
	}
	if u.Deactivated {
		return nil, spec.NewError(http.StatusForbidden, spec.ErrUserDeactivated, "this account has been deactivated")
	}
	return u, nil
}
