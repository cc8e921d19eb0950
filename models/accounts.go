package models

import "errors"

// Sentinel errors shared by the store and its consumers. They live here, not
// in models/store, so packages that must not import GORM (clientapi, authn)
// can still test for them with errors.Is; store re-exports them.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// User is one local account. A deactivated user keeps its row forever so its
// user ID is never handed out again (client-server-api "Account
// deactivation").
type User struct {
	UserID    string
	Localpart string
	// PasswordHash is an argon2id PHC string; empty means password login is
	// impossible (for example accounts created by JWT login).
	PasswordHash string
	IsAdmin      bool
	IsGuest      bool
	Deactivated  bool
	// UserType is the optional type given at shared-secret registration
	// ("bot", "support"); empty for normal users.
	UserType  string
	CreatedAt int64
}

// Device is one login session of a user (client-server-api "Relationship
// between access tokens and devices").
type Device struct {
	UserID      string
	DeviceID    string
	DisplayName string
	LastSeenIP  string
	LastSeenTS  int64
	CreatedAt   int64
}

// AccessToken stores the SHA-256 (hex) of an access token, never the token.
type AccessToken struct {
	TokenHash string
	UserID    string
	DeviceID  string
	// ExpiresAt is in ms since the epoch; 0 means it does not expire.
	ExpiresAt int64
	// RefreshTokenHash is the refresh token issued with this access token;
	// empty if the client did not ask for one.
	RefreshTokenHash string
	CreatedAt        int64
}

// AccessTokenInfo is an access token joined with what authentication needs.
type AccessTokenInfo struct {
	Token   AccessToken
	IsAdmin bool
	// PrevRefresh is the predecessor refresh token still awaiting
	// revocation, if this token came from a refresh.
	PrevRefresh string
}

// RefreshToken stores the SHA-256 of a refresh token.
type RefreshToken struct {
	TokenHash string
	UserID    string
	DeviceID  string
	ExpiresAt int64
	// PrevTokenHash is the refresh token this one replaced. The predecessor
	// stays valid until this token or its access token is first used
	// (client-server-api "Refreshing access tokens"); then it is revoked and
	// PrevTokenHash cleared.
	PrevTokenHash string
	CreatedAt     int64
}

// LoginToken is a short-lived single-use m.login.token (stored hashed).
type LoginToken struct {
	TokenHash string
	UserID    string
	ExpiresAt int64
}

// Profile holds a local user's public profile fields.
type Profile struct {
	UserID      string
	DisplayName string
	AvatarURL   string
}

// AccountData is one account data entry; RoomID is "" for global data.
// Content is canonical JSON of an object.
type AccountData struct {
	UserID    string
	RoomID    string
	Type      string
	Content   string
	StreamPos int64
}

// Table names, spelled out so the rows match migration 1 whatever GORM's
// pluralizer thinks.

func (User) TableName() string         { return "users" }
func (Device) TableName() string       { return "devices" }
func (AccessToken) TableName() string  { return "access_tokens" }
func (RefreshToken) TableName() string { return "refresh_tokens" }
func (LoginToken) TableName() string   { return "login_tokens" }
func (Profile) TableName() string      { return "profiles" }
func (AccountData) TableName() string  { return "account_data" }
