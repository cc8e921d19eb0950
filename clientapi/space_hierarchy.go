package clientapi

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/federation/spaces"
	"github.com/kabarchat/kabar/models/spec"
)

// registerSpaces mounts GET /_matrix/client/v1/rooms/{roomId}/hierarchy
// (space_hierarchy.yaml); without a spaces service it is not served.
func (a *API) registerSpaces(g routeGroup) {
	if a.opts.Spaces == nil {
		return
	}
	g.GET("/rooms/:roomId/hierarchy", a.spaceHierarchy, a.requireAuth)
}

// spaceHierarchy parses the query (limit > 0, max_depth >= 0, a boolean
// suggested_only) and pages the walk.
func (a *API) spaceHierarchy(c echo.Context) error {
	roomID, err := pathRoomID(c)
	if err != nil {
		return err
	}
	q := spaces.Query{MaxDepth: -1, From: c.QueryParam("from")}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return spec.InvalidParam("limit must be an integer greater than zero")
		}
		q.Limit = n
	}
	if v := c.QueryParam("max_depth"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return spec.InvalidParam("max_depth must be a non-negative integer")
		}
		q.MaxDepth = n
	}
	switch c.QueryParam("suggested_only") {
	case "", "false":
	case "true":
		q.SuggestedOnly = true
	default:
		return spec.InvalidParam("suggested_only must be true or false")
	}
	page, err := a.opts.Spaces.Hierarchy(c.Request().Context(), spec.UserID(session(c).UserID), roomID, q)
	if err != nil {
		return err
	}
	return ok(c, page)
}
