package receiver

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/federation/xmatrix"
	"github.com/kabarchat/kabar/models/spec"
)

// Hierarchy answers space hierarchy requests; *spaces.Service satisfies it.
type Hierarchy interface {
	Answer(ctx context.Context, origin spec.ServerName, roomID spec.RoomID, suggestedOnly bool) (any, error)
}

// RegisterHierarchy mounts GET /_matrix/federation/v1/hierarchy/{roomId}
// (server-server-api "Spaces").
func (r *Receiver) RegisterHierarchy(e *echo.Echo, h Hierarchy) {
	g := r.routes(e, "/_matrix/federation/v1")
	g.GET("/hierarchy/:roomId", func(c echo.Context) error {
		roomID, err := spec.ParseRoomID(c.Param("roomId")) // decoded once by echoserver.UnescapeParams
		if err != nil {
			return spec.InvalidParam("invalid room ID: %v", err)
		}
		var suggested bool
		switch c.QueryParam("suggested_only") {
		case "", "false":
		case "true":
			suggested = true
		default:
			return spec.InvalidParam("suggested_only must be true or false")
		}
		ans, err := h.Answer(c.Request().Context(), spec.ServerName(xmatrix.Origin(c)), roomID, suggested)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, ans)
	})
}
