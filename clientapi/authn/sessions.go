package authn

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// LoginRequest asks for a new session (device + tokens) for a user.
type LoginRequest struct {
	UserID spec.UserID
	// DeviceID reuses (and re-keys) a device; empty makes a new one.
	DeviceID    string
	DisplayName string
	WantRefresh bool
	IP          string
}

// LoginResult is what login and registration return to the client.
type LoginResult struct {
	UserID       spec.UserID
	DeviceID     string
	AccessToken  string
	RefreshToken string
	ExpiresInMs  int64
}

// ValidateDevice checks a client-chosen device ID and display name. They are
// refused rather than truncated when too long.
func ValidateDevice(deviceID, displayName string) error {
	if len(deviceID) > 255 {
		return spec.InvalidParam("device_id is longer than 255 bytes")
	}
	for _, r := range deviceID {
		if r < 0x20 || r == 0x7f {
			return spec.InvalidParam("device_id contains control characters")
		}
	}
	if utf8.RuneCountInString(displayName) > 255 {
		return spec.InvalidParam("device display name is longer than 255 characters")
	}
	return nil
}

// StartSession creates or re-keys a device and mints its tokens.
func (s *Service) StartSession(ctx context.Context, req LoginRequest) (*LoginResult, error) {
	if err := ValidateDevice(req.DeviceID, req.DisplayName); err != nil {
		return nil, err
	}
	if req.DeviceID == "" {
		req.DeviceID = newDeviceID()
	}
	now := s.opts.Now()
	res := &LoginResult{UserID: req.UserID, DeviceID: req.DeviceID, AccessToken: newSecret(prefixAccess)}
	at := models.AccessToken{TokenHash: HashToken(res.AccessToken), UserID: string(req.UserID),
		DeviceID: req.DeviceID, CreatedAt: now.UnixMilli()}
	var rt *models.RefreshToken
	if req.WantRefresh {
		rt = s.newRefresh(req.UserID, req.DeviceID, res)
		at.RefreshTokenHash = rt.TokenHash
		at.ExpiresAt = now.Add(s.opts.AccessTokenLifetime).UnixMilli()
	}
	dev := models.Device{UserID: string(req.UserID), DeviceID: req.DeviceID, DisplayName: req.DisplayName,
		LastSeenIP: req.IP, LastSeenTS: now.UnixMilli(), CreatedAt: now.UnixMilli()}
	if err := s.store.CreateSession(ctx, dev, at, rt); err != nil {
		return nil, fmt.Errorf("start session for %s: %w", req.UserID, err)
	}
	// Re-keying an existing device revoked its old tokens in that commit:
	// drop just that device's entries, after the commit, so a concurrent
	// lookup cannot cache a revoked token (the other devices stay cached).
	s.cache.invalidateDevice(string(req.UserID), req.DeviceID)
	return res, nil
}

// newRefresh mints a refresh token into res and returns its row.
func (s *Service) newRefresh(user spec.UserID, device string, res *LoginResult) *models.RefreshToken {
	now := s.opts.Now()
	res.RefreshToken = newSecret(prefixRefresh)
	res.ExpiresInMs = s.opts.AccessTokenLifetime.Milliseconds()
	rt := &models.RefreshToken{TokenHash: HashToken(res.RefreshToken), UserID: string(user), DeviceID: device,
		CreatedAt: now.UnixMilli()}
	if s.opts.RefreshTokenLifetime > 0 {
		rt.ExpiresAt = now.Add(s.opts.RefreshTokenLifetime).UnixMilli()
	}
	return rt
}

// Authenticate resolves an access token (client-server-api "Using access
// tokens"): 401 M_UNKNOWN_TOKEN for unknown or revoked tokens, with
// soft_logout for an expired token that a refresh token can replace.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, error) {
	hash := HashToken(token)
	sess, ok := s.cache.get(hash)
	if !ok {
		epoch := s.cache.epoch.Load()
		ti, err := s.store.GetAccessToken(ctx, hash)
		if errors.Is(err, models.ErrNotFound) {
			return Session{}, spec.UnknownToken(false, "unknown or revoked access token")
		}
		if err != nil {
			return Session{}, err
		}
		if ti.PrevRefresh != "" {
			// First use of a refreshed session: its predecessor dies now.
			if err := s.store.RevokePredecessor(ctx, ti.Token.RefreshTokenHash); err != nil && !errors.Is(err, models.ErrNotFound) {
				return Session{}, err
			}
			s.cache.invalidateUser(ti.Token.UserID)
			epoch = s.cache.epoch.Load()
		}
		sess = Session{UserID: ti.Token.UserID, DeviceID: ti.Token.DeviceID, IsAdmin: ti.IsAdmin,
			ExpiresAt: ti.Token.ExpiresAt, HasRefresh: ti.Token.RefreshTokenHash != "", TokenHash: hash}
		s.cache.put(epoch, sess)
	}
	if sess.ExpiresAt != 0 && s.opts.Now().UnixMilli() >= sess.ExpiresAt {
		return Session{}, spec.UnknownToken(sess.HasRefresh, "access token has expired")
	}
	return sess, nil
}

// Refresh exchanges a refresh token for a new access/refresh pair
// (client-server-api "Refreshing access tokens").
func (s *Service) Refresh(ctx context.Context, refreshToken string) (*LoginResult, error) {
	hash := HashToken(refreshToken)
	old, err := s.store.GetRefreshToken(ctx, hash)
	if errors.Is(err, models.ErrNotFound) {
		return nil, spec.UnknownToken(false, "unknown or revoked refresh token")
	}
	if err != nil {
		return nil, err
	}
	now := s.opts.Now()
	if old.ExpiresAt != 0 && now.UnixMilli() >= old.ExpiresAt {
		return nil, spec.UnknownToken(false, "refresh token has expired")
	}
	res := &LoginResult{UserID: spec.UserID(old.UserID), DeviceID: old.DeviceID, AccessToken: newSecret(prefixAccess)}
	rt := s.newRefresh(res.UserID, old.DeviceID, res)
	rt.PrevTokenHash = hash
	at := &models.AccessToken{TokenHash: HashToken(res.AccessToken), UserID: old.UserID, DeviceID: old.DeviceID,
		RefreshTokenHash: rt.TokenHash, ExpiresAt: now.Add(s.opts.AccessTokenLifetime).UnixMilli(), CreatedAt: now.UnixMilli()}
	s.cache.invalidateUser(old.UserID)
	err = s.store.RotateRefreshToken(ctx, hash, rt, at)
	if errors.Is(err, models.ErrNotFound) {
		return nil, spec.UnknownToken(false, "unknown or revoked refresh token")
	}
	if err != nil {
		return nil, fmt.Errorf("refresh session of %s: %w", old.UserID, err)
	}
	return res, nil
}

// DeleteDevices logs out the listed devices of a user.
func (s *Service) DeleteDevices(ctx context.Context, userID string, deviceIDs []string) error {
	defer s.cache.invalidateUser(userID)
	return s.store.DeleteDevices(ctx, userID, deviceIDs)
}

// LogoutAll deletes every device of the user except keep ("" for none).
func (s *Service) LogoutAll(ctx context.Context, userID, keep string) error {
	defer s.cache.invalidateUser(userID)
	return s.store.DeleteAllDevices(ctx, userID, keep)
}

// ChangePassword sets a new password; with logoutOthers every device but
// keep is logged out (client-server-api "Password management").
func (s *Service) ChangePassword(ctx context.Context, userID, newPassword, keep string, logoutOthers bool) error {
	if err := s.CheckPasswordStrength(newPassword); err != nil {
		return err
	}
	hash, err := HashPassword(newPassword, s.opts.Argon2)
	if err != nil {
		return err
	}
	if err := s.store.SetPasswordHash(ctx, userID, hash); err != nil {
		return err
	}
	if logoutOthers {
		return s.LogoutAll(ctx, userID, keep)
	}
	return nil
}

// Deactivate disables the account for good.
func (s *Service) Deactivate(ctx context.Context, userID string) error {
	defer s.cache.invalidateUser(userID)
	if err := s.store.DeactivateUser(ctx, userID); err != nil {
		return fmt.Errorf("deactivate %s: %w", userID, err)
	}
	s.log.Info("account deactivated", "user_id", userID)
	return nil
}

// NewLoginToken mints a single-use m.login.token for the user
// (client-server-api "POST /login/get_token").
func (s *Service) NewLoginToken(ctx context.Context, userID string) (string, int64, error) {
	tok := newSecret(prefixLogin)
	exp := s.opts.Now().Add(s.opts.LoginTokenLifetime)
	if err := s.store.CreateLoginToken(ctx, &models.LoginToken{TokenHash: HashToken(tok), UserID: userID, ExpiresAt: exp.UnixMilli()}); err != nil {
		return "", 0, err
	}
	return tok, s.opts.LoginTokenLifetime.Milliseconds(), nil
}

// ConsumeLoginToken redeems an m.login.token: 403 M_FORBIDDEN if it is
// unknown, used or expired.
func (s *Service) ConsumeLoginToken(ctx context.Context, token string) (spec.UserID, error) {
	userID, err := s.store.ConsumeLoginToken(ctx, HashToken(token), s.opts.Now())
	if errors.Is(err, models.ErrNotFound) {
		return "", spec.Forbidden("invalid or expired login token")
	}
	if err != nil {
		return "", err
	}
	if _, err := s.activeUser(ctx, spec.UserID(userID)); err != nil {
		return "", err
	}
	return spec.UserID(userID), nil
}

// HasPassword reports whether the user can authenticate with a password
// (UIA offers m.login.password only then).
func (s *Service) HasPassword(ctx context.Context, userID string) (bool, error) {
	u, err := s.store.GetUser(ctx, userID)
	if err != nil {
		return false, err
	}
	return u.PasswordHash != "", nil
}
