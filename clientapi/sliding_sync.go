package clientapi

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	clientsync "github.com/kabarchat/kabar/clientapi/sync"
	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

// slidingSyncPath is where Synapse serves simplified sliding sync
// (MSC4186), which Element X requires.
const slidingSyncPath = "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync"

// slidingSync serves POST slidingSyncPath: ?pos= resumes a connection,
// ?timeout= long-polls (milliseconds), the body configures lists, room
// subscriptions and extensions.
func (a *API) slidingSync(c echo.Context) error {
	req, err := a.slidingRequest(c)
	if err != nil {
		return err
	}
	resp, err := a.opts.Sync.SlidingSync(c.Request().Context(), *req)
	if err != nil {
		return err
	}
	return ok(c, resp)
}

// slidingRequest parses the query and body: 400 M_INVALID_PARAM for a bad
// timeout or set_presence, the body's errors from ParseSlidingBody.
//
//go:noinline
func (a *API) slidingRequest(c echo.Context) (*clientsync.SlidingRequest, error) {
	sess := session(c)
	req := &clientsync.SlidingRequest{UserID: sess.UserID, DeviceID: sess.DeviceID, Pos: c.QueryParam("pos")}
	if s := c.QueryParam("timeout"); s != "" {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ms < 0 {
			return nil, spec.InvalidParam("timeout must be a non-negative integer of milliseconds")
		}
		req.Timeout = time.Duration(min(ms, int64(24*time.Hour/time.Millisecond))) * time.Millisecond
	}
	switch p := c.QueryParam("set_presence"); p {
	case "", "online", "offline", "unavailable":
	default:
		return nil, spec.InvalidParam("set_presence must be online, offline or unavailable")
	}
	body, err := echoserver.ReadBody(c)
	if err != nil {
		return nil, err
	}
	if req.Body, err = clientsync.ParseSlidingBody(body); err != nil {
		return nil, err
	}
	if a.opts.Presence != nil {
		a.opts.Presence.Synced(c.Request().Context(), sess.UserID, c.QueryParam("set_presence"))
	}
	return req, nil
}
