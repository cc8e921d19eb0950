package authn

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// TokenStore holds the registration tokens made through the admin API, with
// use limits and expiry; *store.Store satisfies it.
type TokenStore interface {
	RegistrationTokenUsable(ctx context.Context, token string, nowMs int64) (bool, error)
	ClaimRegistrationToken(ctx context.Context, token string, nowMs int64) error
	FinishRegistrationToken(ctx context.Context, token string, completed bool) error
}

// UIAResult reports what a completed UIA flow was authenticated with.
type UIAResult struct {
	// RegistrationToken is the token of the m.login.registration_token
	// stage, "" if the flow had none.
	RegistrationToken string
}

// configuredToken reports whether token is one of the configured tokens
// (unlimited uses), compared in constant time.
func (s *Service) configuredToken(token string) bool {
	ok := 0
	for _, t := range s.opts.RegistrationTokens {
		ok |= subtle.ConstantTimeCompare([]byte(t), []byte(token))
	}
	return token != "" && ok == 1
}

// RegistrationTokenValid reports whether a registration token may be used
// now: a configured token, or a stored one with uses left and not expired
// (registration_tokens.yaml).
func (s *Service) RegistrationTokenValid(ctx context.Context, token string) (bool, error) {
	if token == "" || len(token) > 64 {
		return false, nil
	}
	if s.configuredToken(token) {
		return true, nil
	}
	if s.opts.TokenStore == nil {
		return false, nil
	}
	return s.opts.TokenStore.RegistrationTokenUsable(ctx, token, s.opts.Now().UnixMilli())
}

// ClaimRegistrationToken takes one use of a stored token for an account
// about to be created; finish must be called with whether the account was
// created (the use is then counted, or given back). Configured tokens and
// "" need no claim. A token used up or expired since the UIA stage is 401
// M_UNAUTHORIZED, as a failed stage would be.
func (s *Service) ClaimRegistrationToken(ctx context.Context, token string) (finish func(created bool), err error) {
	noop := func(bool) {}
	if token == "" || s.configuredToken(token) || s.opts.TokenStore == nil {
		return noop, nil
	}
	err = s.opts.TokenStore.ClaimRegistrationToken(ctx, token, s.opts.Now().UnixMilli())
	if errors.Is(err, models.ErrNotFound) {
		return noop, spec.NewError(http.StatusUnauthorized, spec.ErrUnauthorized, "registration token is no longer valid")
	}
	if err != nil {
		return noop, err
	}
	return func(created bool) {
		// The request may be gone; the bookkeeping must still happen.
		if err := s.opts.TokenStore.FinishRegistrationToken(context.WithoutCancel(ctx), token, created); err != nil {
			s.log.Error("finish registration token", "err", err)
		}
	}, nil
}
