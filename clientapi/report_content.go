package clientapi

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

type reportBody struct {
	Reason string `json:"reason"`
	Score  *int64 `json:"score"`
}

// maxReportReason bounds what a report stores. NOTSPEC: the spec sets no
// limit.
const maxReportReason = 4096

// POST /rooms/{roomId}/report/{eventId} (report_content.yaml). An event the
// reporter cannot see is 404, the same as an unknown one.
func (a *API) reportEvent(c echo.Context) error {
	roomID, eventID, err := pathRoomEvent(c)
	if err != nil {
		return err
	}
	body, err := readReport(c)
	if err != nil {
		return err
	}
	if _, _, err := a.visibleEvent(c.Request().Context(), session(c).UserID, roomID, eventID); err != nil {
		return err
	}
	return a.storeReport(c, models.Report{RoomID: string(roomID), EventID: string(eventID), Reason: body.Reason, Score: body.Score})
}

// POST /rooms/{roomId}/report (report_content.yaml): unknown rooms are 404.
func (a *API) reportRoom(c echo.Context) error {
	roomID, err := pathRoomID(c)
	if err != nil {
		return err
	}
	body, err := readReport(c)
	if err != nil {
		return err
	}
	if _, _, err := a.opts.Rooms.Room(c.Request().Context(), roomID); err != nil {
		return err
	}
	return a.storeReport(c, models.Report{RoomID: string(roomID), Reason: body.Reason})
}

func readReport(c echo.Context) (reportBody, error) {
	var body reportBody
	if err := echoserver.BindJSON(c, &body); err != nil {
		return body, err
	}
	if len(body.Reason) > maxReportReason {
		return body, spec.InvalidParam("reason is longer than %d bytes", maxReportReason)
	}
	if body.Score != nil && (*body.Score < -100 || *body.Score > 0) {
		return body, spec.InvalidParam("score must be between -100 and 0")
	}
	return body, nil
}

func (a *API) storeReport(c echo.Context, r models.Report) error {
	r.Reporter = session(c).UserID
	r.CreatedAt = time.Now().UnixMilli()
	if err := a.opts.Rooms.Store().CreateReport(c.Request().Context(), r); err != nil {
		return err
	}
	return ok(c, struct{}{})
}
