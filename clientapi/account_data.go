package clientapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// AccountDataStore is the account data part of the store.
type AccountDataStore interface {
	GetAccountData(ctx context.Context, userID, roomID, typ string) (string, error)
}

// serverManagedAccountData are types clients may not set through this API
// (account-data.yaml: 405 M_BAD_JSON): m.fully_read goes through read
// markers, m.push_rules through the push rules API.
var serverManagedAccountData = map[string]bool{"m.fully_read": true, "m.push_rules": true}

// accountDataTarget parses and authorizes {userId}, {type} and, for
// per-room data, {roomId}.
func accountDataTarget(c echo.Context, perRoom bool) (user, room, typ string, err error) {
	id, err := pathUser(c)
	if err != nil {
		return "", "", "", err
	}
	if string(id) != session(c).UserID {
		return "", "", "", spec.Forbidden("you can only access your own account data")
	}
	typ = c.Param("type")
	if typ == "" || len(typ) > 255 {
		return "", "", "", spec.InvalidParam("account data type must be 1 to 255 bytes")
	}
	if perRoom {
		raw := c.Param("roomId")
		rid, err := spec.ParseRoomID(raw)
		if err != nil {
			return "", "", "", spec.InvalidParam("invalid room ID %q", raw)
		}
		room = string(rid)
	}
	return string(id), room, typ, nil
}

// putAccountData serves PUT .../account_data/{type} (global and per-room).
func (a *API) putAccountData(perRoom bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		user, room, typ, err := accountDataTarget(c, perRoom)
		if err != nil {
			return err
		}
		if serverManagedAccountData[typ] {
			return spec.NewError(http.StatusMethodNotAllowed, spec.ErrBadJSON, "cannot set %s through this API", typ)
		}
		body, err := echoserver.ReadBody(c)
		if err != nil {
			return err
		}
		content, err := canonicalObject(body)
		if err != nil {
			return err
		}
		if err := a.opts.Sync.PutAccountData(c.Request().Context(), user, room, typ, content); err != nil {
			return err
		}
		return ok(c, struct{}{})
	}
}

// getAccountData serves GET .../account_data/{type}.
func (a *API) getAccountData(perRoom bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		user, room, typ, err := accountDataTarget(c, perRoom)
		if err != nil {
			return err
		}
		content, err := a.opts.Store.GetAccountData(c.Request().Context(), user, room, typ)
		if errors.Is(err, models.ErrNotFound) {
			return spec.NotFound("no account data of type %s", typ)
		}
		if err != nil {
			return err
		}
		return c.JSONBlob(http.StatusOK, []byte(content))
	}
}

// canonicalObject checks that body is a strict JSON object and returns it
// re-encoded with sorted keys and no insignificant whitespace (appendices
// "Canonical JSON"); numbers keep their literal form.
func canonicalObject(body []byte) (string, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return "", spec.NotJSON("content must be a JSON object")
	}
	var obj map[string]any
	if err := echoserver.DecodeJSON(body, &obj); err != nil {
		return "", err
	}
	if obj == nil {
		return "", spec.BadJSON("content must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return "", spec.BadJSON("content must be a JSON object")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return "", spec.BadJSON("content cannot be encoded: %v", err)
	}
	return string(bytes.TrimRight(buf.Bytes(), "\n")), nil
}
