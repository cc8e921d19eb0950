package clientapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

// filterOwner parses {userId} and checks it is the caller (filter.yaml: 403
// for someone else's filters).
func filterOwner(c echo.Context) (string, error) {
	id, err := pathUser(c)
	if err != nil {
		return "", err
	}
	if string(id) != session(c).UserID {
		return "", spec.Forbidden("you can only use your own filters")
	}
	return string(id), nil
}

// createFilter serves POST /user/{userId}/filter.
func (a *API) createFilter(c echo.Context) error {
	user, err := filterOwner(c)
	if err != nil {
		return err
	}
	body, err := echoserver.ReadBody(c)
	if err != nil {
		return err
	}
	id, err := a.opts.Sync.CreateFilter(c.Request().Context(), user, body)
	if err != nil {
		return err
	}
	return ok(c, map[string]string{"filter_id": id})
}

// getFilter serves GET /user/{userId}/filter/{filterId}.
func (a *API) getFilter(c echo.Context) error {
	user, err := filterOwner(c)
	if err != nil {
		return err
	}
	id := c.Param("filterId")
	f, err := a.opts.Sync.LoadFilter(c.Request().Context(), user, id)
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, f.Raw())
}
