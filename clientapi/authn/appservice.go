package authn

import (
	"context"
	"errors"
	"net/http"

	"github.com/kabarchat/kabar/appservice"
	"github.com/kabarchat/kabar/models/spec"
)

// AppService is the application service whose as_token this is, nil if
// none.
func (s *Service) AppService(token string) *appservice.Registration {
	return s.opts.AppServices.ByToken(token)
}

// AppServiceRegistry is the registered application services (nil: none).
func (s *Service) AppServiceRegistry() *appservice.Registry { return s.opts.AppServices }

// AuthenticateAppService resolves an as_token request
// (application-service-api.md "Identity assertion"): the service acts as
// userID (the ?user_id= parameter) when that is in its user namespaces,
// else as its sender. reg is nil when token is not an as_token (the caller
// then tries access tokens). A user outside the namespaces is 403
// M_FORBIDDEN, a malformed one 400 M_INVALID_PARAM, and one the service has
// not registered 403 M_FORBIDDEN (as in Synapse: register it first).
func (s *Service) AuthenticateAppService(ctx context.Context, token, userID string) (Session, *appservice.Registration, error) {
	reg := s.AppService(token)
	if reg == nil {
		return Session{}, nil, nil
	}
	user := reg.Sender
	if userID != "" {
		id, err := spec.ParseUserID(userID)
		if err != nil {
			return Session{}, reg, spec.InvalidParam("user_id %q is not a valid user ID", userID)
		}
		if id.Server() != s.opts.ServerName || !reg.OwnsUser(id) {
			return Session{}, reg, spec.Forbidden("application service cannot masquerade as %s", id)
		}
		user = id
	}
	if user != reg.Sender && !reg.Known(user) {
		exists, err := s.store.UserExists(ctx, string(user))
		if err != nil {
			return Session{}, reg, err
		}
		if !exists {
			return Session{}, reg, spec.Forbidden("application service has not registered %s", user)
		}
		reg.Remember(user)
	}
	return Session{UserID: string(user), TokenHash: HashToken(token)}, reg, nil
}

// CheckNotExclusive refuses a user ID that an application service other
// than reg (nil: a normal user) holds exclusively: 400 M_EXCLUSIVE
// (client-server-api "Account registration": "the requested user ID is in
// the exclusive namespace of an application service").
func (s *Service) CheckNotExclusive(id spec.UserID, reg *appservice.Registration) error {
	if owner := s.opts.AppServices.ExclusiveUser(id); owner != nil && owner != reg {
		return spec.NewError(http.StatusBadRequest, spec.ErrExclusive, "user ID %s is reserved by an application service", id)
	}
	return nil
}

// UserExists reports whether the local user was ever registered.
func (s *Service) UserExists(ctx context.Context, id spec.UserID) (bool, error) {
	return s.store.UserExists(ctx, string(id))
}

// CreateAppServiceUser makes the passwordless account of a user an
// application service holds (a user it confirmed in a user query, or its
// sender); an existing account is not an error.
func (s *Service) CreateAppServiceUser(ctx context.Context, id spec.UserID) error {
	exists, err := s.store.UserExists(ctx, string(id))
	if err != nil || exists {
		return err
	}
	// The service holding the user exclusively (if any) is the one
	// creating it: the sender, or the one that answered the query.
	_, err = s.CreateAccount(ctx, NewAccount{Localpart: id.Localpart(), AppService: s.opts.AppServices.ExclusiveUser(id)})
	var merr *spec.Error
	if errors.As(err, &merr) && merr.Code == spec.ErrUserInUse {
		return nil // created concurrently
	}
	return err
}
