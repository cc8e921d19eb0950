package clientapi

import (
	"encoding/json"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/clientapi/search"
	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

// registerSearch mounts search.yaml and the user directory (users.yaml).
func (a *API) registerSearch(g routeGroup) {
	if a.opts.Rooms == nil {
		return
	}
	g.POST("/search", a.search, a.requireAuth)
	g.POST("/user_directory/search", a.searchUserDirectory, a.requireAuth)
}

func (a *API) searchService() *search.Service {
	return &search.Service{Rooms: a.opts.Rooms, Sync: a.opts.Sync, Format: a.formatter(),
		SearchAllUsers: a.opts.UserDirectorySearchAll}
}

// search serves POST /search. Only room_events is a category today; any
// other is refused rather than silently ignored.
func (a *API) search(c echo.Context) error {
	var body struct {
		SearchCategories map[string]json.RawMessage `json:"search_categories"`
	}
	if err := echoserver.BindJSON(c, &body); err != nil {
		return err
	}
	if body.SearchCategories == nil {
		return spec.MissingParam("search_categories is required")
	}
	var req search.Request
	for name, raw := range body.SearchCategories {
		if name != "room_events" {
			return spec.InvalidParam("unknown search category %q", name)
		}
		var crit search.RoomEventsCriteria
		if err := echoserver.DecodeJSON(raw, &crit); err != nil {
			return err
		}
		req.SearchCategories.RoomEvents = &crit
	}
	resp, err := a.searchService().Search(c.Request().Context(), session(c).UserID, session(c).DeviceID, c.QueryParam("next_batch"), &req)
	if err != nil {
		return err
	}
	return ok(c, resp)
}

// searchUserDirectory serves POST /user_directory/search.
func (a *API) searchUserDirectory(c echo.Context) error {
	var req search.UserDirectoryRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	resp, err := a.searchService().SearchUsers(c.Request().Context(), session(c).UserID, req)
	if err != nil {
		return err
	}
	return ok(c, resp)
}
