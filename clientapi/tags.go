package clientapi

import (
	"encoding/json"
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// Room tags are the per-room account data m.tag (client-server-api "Room
// Tagging"), written through the sync account data stream.

type tagContent struct {
	Tags map[string]json.RawMessage `json:"tags"`
}

// tagTarget parses {userId}, {roomId} and checks ownership.
func tagTarget(c echo.Context) (user, room string, err error) {
	id, err := pathUser(c)
	if err != nil {
		return "", "", err
	}
	if string(id) != session(c).UserID {
		return "", "", spec.Forbidden("you can only access your own tags")
	}
	rid, err := pathRoomID(c)
	if err != nil {
		return "", "", err
	}
	return string(id), string(rid), nil
}

func (a *API) loadTags(c echo.Context, user, room string) (tagContent, error) {
	tc := tagContent{Tags: map[string]json.RawMessage{}}
	raw, err := a.opts.Sync.GetAccountData(c.Request().Context(), user, room, "m.tag")
	if errors.Is(err, models.ErrNotFound) {
		return tc, nil
	}
	if err != nil {
		return tc, err
	}
	if json.Unmarshal([]byte(raw), &tc) != nil || tc.Tags == nil {
		tc.Tags = map[string]json.RawMessage{}
	}
	return tc, nil
}

// getTags serves GET /user/{userId}/rooms/{roomId}/tags.
func (a *API) getTags(c echo.Context) error {
	user, room, err := tagTarget(c)
	if err != nil {
		return err
	}
	tc, err := a.loadTags(c, user, room)
	if err != nil {
		return err
	}
	return ok(c, tc)
}

// putTag serves PUT .../tags/{tag}: body {"order": number} (optional).
func (a *API) putTag(c echo.Context) error {
	return a.changeTag(c, true)
}

// deleteTag serves DELETE .../tags/{tag}.
func (a *API) deleteTag(c echo.Context) error {
	return a.changeTag(c, false)
}

func (a *API) changeTag(c echo.Context, set bool) error {
	user, room, err := tagTarget(c)
	if err != nil {
		return err
	}
	tag := c.Param("tag")
	if tag == "" || len(tag) > 255 {
		return spec.InvalidParam("tag must be 1 to 255 bytes")
	}
	var body struct {
		Order *float64 `json:"order,omitempty"`
	}
	if set {
		if err := echoserver.BindJSON(c, &body); err != nil {
			return err
		}
		if body.Order != nil && (*body.Order < 0 || *body.Order > 1) {
			return spec.BadJSON("order must be between 0 and 1")
		}
	}
	tc, err := a.loadTags(c, user, room)
	if err != nil {
		return err
	}
	if set {
		tc.Tags[tag], _ = json.Marshal(body)
	} else {
		delete(tc.Tags, tag)
	}
	content, _ := json.Marshal(tc)
	if err := a.opts.Sync.PutAccountData(c.Request().Context(), user, room, "m.tag", string(content)); err != nil {
		return err
	}
	return ok(c, struct{}{})
}
