package clientapi

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// DeviceStore is the device part of the store the handlers read directly.
type DeviceStore interface {
	ListDevices(ctx context.Context, userID string) ([]models.Device, error)
	GetDevice(ctx context.Context, userID, deviceID string) (*models.Device, error)
	RenameDevice(ctx context.Context, userID, deviceID, name string) error
}

type deviceJSON struct {
	DeviceID    string `json:"device_id"`
	DisplayName string `json:"display_name,omitempty"`
	LastSeenIP  string `json:"last_seen_ip,omitempty"`
	LastSeenTS  int64  `json:"last_seen_ts,omitempty"`
}

func toDeviceJSON(d models.Device) deviceJSON {
	return deviceJSON{DeviceID: d.DeviceID, DisplayName: d.DisplayName, LastSeenIP: d.LastSeenIP, LastSeenTS: d.LastSeenTS}
}

// GET /devices (device_management.yaml).
func (a *API) listDevices(c echo.Context) error {
	ds, err := a.opts.Store.ListDevices(c.Request().Context(), session(c).UserID)
	if err != nil {
		return err
	}
	out := make([]deviceJSON, len(ds))
	for i, d := range ds {
		out[i] = toDeviceJSON(d)
	}
	return ok(c, map[string]any{"devices": out})
}

// GET /devices/{deviceId}
func (a *API) getDevice(c echo.Context) error {
	id := c.Param("deviceId")
	d, err := a.opts.Store.GetDevice(c.Request().Context(), session(c).UserID, id)
	if errors.Is(err, models.ErrNotFound) {
		return spec.NotFound("unknown device")
	}
	if err != nil {
		return err
	}
	return ok(c, toDeviceJSON(*d))
}

type updateDeviceRequest struct {
	DisplayName *string `json:"display_name"`
}

// PUT /devices/{deviceId}: only the display name can change.
func (a *API) updateDevice(c echo.Context) error {
	id := c.Param("deviceId")
	var req updateDeviceRequest
	err := echoserver.BindJSON(c, &req)
	if err != nil {
		return err
	}
	if req.DisplayName == nil {
		// Nothing to change, but the device must exist.
		_, err = a.opts.Store.GetDevice(c.Request().Context(), session(c).UserID, id)
	} else if utf8.RuneCountInString(*req.DisplayName) > 255 {
		return spec.InvalidParam("display_name is longer than 255 characters")
	} else {
		err = a.opts.Store.RenameDevice(c.Request().Context(), session(c).UserID, id, *req.DisplayName)
		if err == nil {
			a.devicesChanged(c, session(c).UserID, []string{id})
		}
	}
	if errors.Is(err, models.ErrNotFound) {
		return spec.NotFound("unknown device")
	}
	if err != nil {
		return err
	}
	return ok(c, struct{}{})
}

// DELETE /devices/{deviceId} (UIA).
func (a *API) deleteDevice(c echo.Context) error {
	id := c.Param("deviceId")
	var req uiaOnlyRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	if _, err := a.opts.Store.GetDevice(c.Request().Context(), session(c).UserID, id); errors.Is(err, models.ErrNotFound) {
		return spec.NotFound("unknown device")
	} else if err != nil {
		return err
	}
	return a.deleteDevicesUIA(c, req.Auth, []string{id})
}

type deleteDevicesRequest struct {
	uiaOnlyRequest
	Devices *[]string `json:"devices"`
}

// POST /delete_devices (UIA). Unknown device IDs are ignored.
func (a *API) deleteDevices(c echo.Context) error {
	var req deleteDevicesRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	if req.Devices == nil {
		return spec.BadJSON("devices is required")
	}
	return a.deleteDevicesUIA(c, req.Auth, *req.Devices)
}

func (a *API) deleteDevicesUIA(c echo.Context, auth []byte, ids []string) error {
	if done, err := a.passwordUIA(c, "delete_devices", auth); !done {
		return err
	}
	sess := session(c)
	if err := a.opts.Accounts.DeleteDevices(c.Request().Context(), sess.UserID, ids); err != nil {
		return err
	}
	a.devicesChanged(c, sess.UserID, ids)
	return ok(c, struct{}{})
}
