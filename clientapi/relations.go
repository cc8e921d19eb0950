package clientapi

import (
	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/clientapi/relations"
	"github.com/kabarchat/kabar/models/spec"
)

// registerRelations mounts relations.yaml and threads_list.yaml (v1).
func (a *API) registerRelations(g routeGroup) {
	if a.opts.Rooms == nil {
		return
	}
	auth := a.requireAuth
	g.GET("/rooms/:roomId/relations/:eventId", a.relations, auth)
	g.GET("/rooms/:roomId/relations/:eventId/:relType", a.relations, auth)
	g.GET("/rooms/:roomId/relations/:eventId/:relType/:eventType", a.relations, auth)
	g.GET("/rooms/:roomId/threads", a.threads, auth)
}

func (a *API) relationsService() *relations.Service {
	return &relations.Service{Rooms: a.opts.Rooms, Format: a.formatter()}
}

// relations serves GET /rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]].
func (a *API) relations(c echo.Context) error {
	roomID, eventID, err := a.historyEvent(c)
	if err != nil {
		return err
	}
	req := relations.Request{UserID: session(c).UserID, DeviceID: session(c).DeviceID, RoomID: string(roomID),
		EventID: string(eventID), From: c.QueryParam("from"), To: c.QueryParam("to")}
	req.RelType, req.EventType = c.Param("relType"), c.Param("eventType")
	switch c.QueryParam("dir") {
	case "", "b":
	case "f":
		req.Forwards = true
	default:
		return spec.InvalidParam("dir must be b or f")
	}
	switch c.QueryParam("recurse") {
	case "", "false":
	case "true":
		req.Recurse = true
	default:
		return spec.InvalidParam("recurse must be true or false")
	}
	if req.Limit, err = limitParam(c, 0); err != nil {
		return err
	}
	resp, err := a.relationsService().Relations(c.Request().Context(), req)
	if err != nil {
		return err
	}
	return ok(c, resp)
}

// threads serves GET /rooms/{roomId}/threads.
func (a *API) threads(c echo.Context) error {
	roomID, err := a.historyRoom(c)
	if err != nil {
		return err
	}
	req := relations.ThreadsRequest{UserID: session(c).UserID, DeviceID: session(c).DeviceID,
		RoomID: string(roomID), From: c.QueryParam("from")}
	switch c.QueryParam("include") {
	case "", "all":
	case "participated":
		req.Participated = true
	default:
		return spec.InvalidParam("include must be all or participated")
	}
	if req.Limit, err = limitParam(c, 0); err != nil {
		return err
	}
	resp, err := a.relationsService().Threads(c.Request().Context(), req)
	if err != nil {
		return err
	}
	return ok(c, resp)
}
