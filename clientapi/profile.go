package clientapi

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// ProfileStore is the profile part of the store.
type ProfileStore interface {
	GetProfile(ctx context.Context, userID string) (*models.Profile, error)
	SetProfileField(ctx context.Context, userID, field, value string) error
}

// Profile field limits. NOTSPEC: the spec sets no length; these keep rows
// and member events reasonable and match common servers.
const (
	maxDisplayNameChars = 256
	maxAvatarURLBytes   = 1000
)

// loadProfile reads a user's profile: ours from the store, a remote user's
// through federation (query/profile, cached briefly); without federation a
// remote profile is 404 like an unknown one.
func (a *API) loadProfile(c echo.Context) (spec.UserID, *models.Profile, error) {
	id, err := pathUser(c)
	if err != nil {
		return "", nil, err
	}
	if id.Server() != a.opts.ServerName {
		if a.opts.Federation == nil {
			return "", nil, spec.NotFound("profile not found")
		}
		name, avatar, err := a.opts.Federation.RemoteProfile(c.Request().Context(), id)
		if err != nil {
			return "", nil, err
		}
		return id, &models.Profile{UserID: string(id), DisplayName: name, AvatarURL: avatar}, nil
	}
	p, err := a.opts.Store.GetProfile(c.Request().Context(), string(id))
	if errors.Is(err, models.ErrNotFound) && a.opts.AppServices != nil {
		// A user in an application service's exclusive namespace may be
		// made on demand (application-service-api.md "Querying").
		if found, qerr := a.opts.AppServices.QueryUser(c.Request().Context(), id); qerr != nil {
			return "", nil, qerr
		} else if found {
			p, err = a.opts.Store.GetProfile(c.Request().Context(), string(id))
		}
	}
	if errors.Is(err, models.ErrNotFound) {
		return "", nil, spec.NotFound("profile not found")
	}
	return id, p, err
}

// GET /profile/{userId} (profile.yaml).
func (a *API) getProfile(c echo.Context) error {
	_, p, err := a.loadProfile(c)
	if err != nil {
		return err
	}
	out := map[string]string{}
	if p.DisplayName != "" {
		out["displayname"] = p.DisplayName
	}
	if p.AvatarURL != "" {
		out["avatar_url"] = p.AvatarURL
	}
	return ok(c, out)
}

// getProfileField serves GET /profile/{userId}/displayname|avatar_url; an
// unset field is 404 M_NOT_FOUND.
func (a *API) getProfileField(field string) echo.HandlerFunc {
	return func(c echo.Context) error {
		_, p, err := a.loadProfile(c)
		if err != nil {
			return err
		}
		v := p.DisplayName
		if field == "avatar_url" {
			v = p.AvatarURL
		}
		if v == "" {
			return spec.NotFound("%s is not set", field)
		}
		return ok(c, map[string]string{field: v})
	}
}

// setProfileField serves PUT /profile/{userId}/displayname|avatar_url. The
// body is {field: value}; null or "" clears the field.
func (a *API) setProfileField(field string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathUser(c)
		if err != nil {
			return err
		}
		if string(id) != session(c).UserID {
			return spec.Forbidden("you can only change your own profile")
		}
		var body map[string]*string
		if err := echoserver.BindJSON(c, &body); err != nil {
			return err
		}
		v, present := body[field]
		if !present {
			return spec.BadJSON("%s is required", field)
		}
		value := ""
		if v != nil {
			value = *v
		}
		if err := validateProfileField(field, value); err != nil {
			return err
		}
		if err := a.opts.Store.SetProfileField(c.Request().Context(), string(id), field, value); err != nil {
			return err
		}
		a.propagateProfile(c.Request().Context(), id)
		return ok(c, struct{}{})
	}
}

func validateProfileField(field, value string) error {
	switch field {
	case "displayname":
		if utf8.RuneCountInString(value) > maxDisplayNameChars {
			return spec.InvalidParam("displayname is longer than %d characters", maxDisplayNameChars)
		}
	case "avatar_url":
		if len(value) > maxAvatarURLBytes {
			return spec.InvalidParam("avatar_url is longer than %d bytes", maxAvatarURLBytes)
		}
		if value != "" && !strings.HasPrefix(value, "mxc://") {
			return spec.InvalidParam("avatar_url must be an mxc:// URI")
		}
	}
	return nil
}
