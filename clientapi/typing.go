package clientapi

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

// maxTypingTimeout bounds how long one typing notification lasts.
const maxTypingTimeout = 2 * time.Minute

// putTyping serves PUT /rooms/{roomId}/typing/{userId} (typing.yaml).
func (a *API) putTyping(c echo.Context) error {
	user, err := pathUser(c)
	if err != nil {
		return err
	}
	if string(user) != session(c).UserID {
		return spec.Forbidden("you can only set your own typing state")
	}
	roomID, err := a.joinedRoom(c)
	if err != nil {
		return err
	}
	var body struct {
		Typing  *bool `json:"typing"`
		Timeout int64 `json:"timeout"`
	}
	if err := echoserver.BindJSON(c, &body); err != nil {
		return err
	}
	if body.Typing == nil {
		return spec.BadJSON("typing is required")
	}
	timeout := time.Duration(0)
	if *body.Typing {
		timeout = 30 * time.Second
		if body.Timeout > 0 {
			timeout = min(time.Duration(body.Timeout)*time.Millisecond, maxTypingTimeout)
		}
	}
	a.opts.Sync.SetTyping(string(roomID), string(user), timeout)
	if a.opts.EphemeralOut != nil {
		a.opts.EphemeralOut.Typing(c.Request().Context(), string(roomID), string(user), *body.Typing)
	}
	return ok(c, struct{}{})
}

// EphemeralPublisher relays a local user's typing notifications and read
// receipts to the other servers in the room (server-server-api "Typing
// Notifications", "Receipts"); it must not block on the network.
type EphemeralPublisher interface {
	Typing(ctx context.Context, roomID, userID string, typing bool)
	Receipt(ctx context.Context, roomID, userID, receiptType, eventID, threadID string, ts int64)
}
