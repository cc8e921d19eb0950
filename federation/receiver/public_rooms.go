package receiver

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/federation/xmatrix"
	"github.com/kabarchat/kabar/models/spec"
)

// Directory is our public room directory as other servers query it; the
// client API's directory implements it (the two share request and answer).
type Directory interface {
	PublicRoomsPage(ctx context.Context, limit *int, since, term string, roomTypes []*string) (map[string]any, error)
}

// publicRoomsBody is POST /publicRooms's body.
type publicRoomsBody struct {
	Limit  *int   `json:"limit"`
	Since  string `json:"since"`
	Filter struct {
		GenericSearchTerm string    `json:"generic_search_term"`
		RoomTypes         []*string `json:"room_types"`
	} `json:"filter"`
	IncludeAllNetworks   bool   `json:"include_all_networks"`
	ThirdPartyInstanceID string `json:"third_party_instance_id"`
}

// RegisterDirectory mounts GET and POST /_matrix/federation/v1/publicRooms
// (server-server-api "Public Room Directory"). Bridged networks are not
// supported: include_all_networks and third_party_instance_id list our own
// rooms, the only ones there are.
func (r *Receiver) RegisterDirectory(e *echo.Echo, d Directory) {
	g := r.routes(e, "/_matrix/federation/v1/publicRooms")
	g.GET("", func(c echo.Context) error {
		var limit *int
		if l := c.QueryParam("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil {
				return spec.InvalidParam("limit must be an integer")
			}
			limit = &n
		}
		out, err := d.PublicRoomsPage(c.Request().Context(), limit, c.QueryParam("since"), "", nil)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, out)
	})
	g.POST("", func(c echo.Context) error {
		var body publicRoomsBody
		if err := echoserver.BindJSON(c, &body); err != nil {
			return err
		}
		out, err := d.PublicRoomsPage(c.Request().Context(), body.Limit, body.Since, body.Filter.GenericSearchTerm, body.Filter.RoomTypes)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, out)
	})
}

// authenticated is the X-Matrix middleware for routes mounted after
// Register.
func (r *Receiver) authenticated() echo.MiddlewareFunc {
	return xmatrix.Middleware(xmatrix.MiddlewareOptions{
		ServerName: string(r.opts.ServerName),
		Keys: func(ctx context.Context, server, keyID string, at int64) (ed25519.PublicKey, error) {
			return r.opts.Ring.VerifyKey(ctx, server, keyID, at)
		},
		OnOrigin: r.opts.OnOrigin,
		Logger:   r.log,
	})
}
