package clientapi

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"

	clientsync "github.com/kabarchat/kabar/clientapi/sync"
	"github.com/kabarchat/kabar/e2ee"
	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
)

// registerE2EE mounts the end-to-end encryption routes (keys.yaml,
// cross_signing.yaml, to_device.yaml, key_backup.yaml) when the key server
// is configured.
func (a *API) registerE2EE(g routeGroup) {
	if a.opts.E2EE == nil {
		return
	}
	auth := a.requireAuth
	g.POST("/keys/upload", a.uploadKeys, auth)
	g.POST("/keys/query", a.queryKeys, auth)
	g.POST("/keys/claim", a.claimKeys, auth)
	g.GET("/keys/changes", a.keyChanges, auth)
	g.POST("/keys/device_signing/upload", a.uploadCrossSigning, auth)
	g.POST("/keys/signatures/upload", a.uploadSignatures, auth)
	g.PUT("/sendToDevice/:eventType/:txnId", a.sendToDevice, auth)
	a.registerKeyBackup(g)
}

// POST /keys/upload
func (a *API) uploadKeys(c echo.Context) error {
	var req e2ee.UploadRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	sess := session(c)
	if sess.DeviceID == "" {
		// An application service acting without ?device_id= has no
		// device to hold the keys (application-service-api.md "Identity
		// assertion"); as Synapse, refuse rather than store them under "".
		return spec.MissingParam("keys can only be uploaded for a device: pass device_id")
	}
	counts, err := a.opts.E2EE.UploadKeys(c.Request().Context(), sess.UserID, sess.DeviceID, req)
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"one_time_key_counts": counts})
}

type queryKeysRequest struct {
	Timeout    *int64               `json:"timeout"`
	DeviceKeys *map[string][]string `json:"device_keys"`
}

// remoteTimeout reads the optional timeout field (ms), bounded to the
// recommended default.
func remoteTimeout(ms *int64) time.Duration {
	if ms == nil || *ms <= 0 || time.Duration(*ms)*time.Millisecond > e2ee.DefaultRemoteTimeout {
		return e2ee.DefaultRemoteTimeout
	}
	return time.Duration(*ms) * time.Millisecond
}

// POST /keys/query
func (a *API) queryKeys(c echo.Context) error {
	var req queryKeysRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	if req.DeviceKeys == nil {
		return spec.BadJSON("device_keys is required")
	}
	res, err := a.opts.E2EE.QueryKeys(c.Request().Context(), session(c).UserID, *req.DeviceKeys, remoteTimeout(req.Timeout))
	if err != nil {
		return err
	}
	return ok(c, res)
}

type claimKeysRequest struct {
	Timeout     *int64                        `json:"timeout"`
	OneTimeKeys *map[string]map[string]string `json:"one_time_keys"`
}

// POST /keys/claim
func (a *API) claimKeys(c echo.Context) error {
	var req claimKeysRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	if req.OneTimeKeys == nil {
		return spec.BadJSON("one_time_keys is required")
	}
	res, err := a.opts.E2EE.ClaimKeys(c.Request().Context(), *req.OneTimeKeys, remoteTimeout(req.Timeout))
	if err != nil {
		return err
	}
	return ok(c, res)
}

// GET /keys/changes?from=&to= (sync tokens; only their device-list
// positions matter).
func (a *API) keyChanges(c echo.Context) error {
	from, err := clientsync.ParseToken(c.QueryParam("from"))
	if err != nil {
		return spec.InvalidParam("from: %v", err)
	}
	to, err := clientsync.ParseToken(c.QueryParam("to"))
	if err != nil {
		return spec.InvalidParam("to: %v", err)
	}
	f, t := from.Get(clientsync.StreamDeviceLists), to.Get(clientsync.StreamDeviceLists)
	if t < f {
		f, t = t, f
	}
	changed, left, err := a.opts.E2EE.DeviceListChanges(c.Request().Context(), session(c).UserID, f, t)
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"changed": changed, "left": left})
}

// DeviceListSync is the /sync extension source of the device-list stream:
// device_lists, device_one_time_keys_count and
// device_unused_fallback_key_types.
type DeviceListSync struct{ Keys *e2ee.Service }

func (DeviceListSync) Stream() clientsync.StreamID { return clientsync.StreamDeviceLists }

func (d DeviceListSync) Current() int64 { return d.Keys.DeviceListStream().Current() }

func (d DeviceListSync) Fill(ctx context.Context, q clientsync.ExtensionQuery, out *clientsync.Extensions) error {
	if !q.Initial {
		changed, left, err := d.Keys.DeviceListChanges(ctx, q.UserID, q.Since, q.Upto)
		if err != nil {
			return err
		}
		out.DeviceListsChanged, out.DeviceListsLeft = changed, left
	}
	counts, err := d.Keys.Counts(ctx, q.UserID, q.DeviceID)
	if err != nil {
		return err
	}
	out.OneTimeKeysCount, out.UnusedFallbackKeyTypes = counts.OneTimeKeys, counts.UnusedFallbackKeyTypes
	return nil
}

// ToDeviceSync is the /sync extension source of the to-device stream.
type ToDeviceSync struct{ Keys *e2ee.Service }

func (ToDeviceSync) Stream() clientsync.StreamID { return clientsync.StreamToDevice }

func (t ToDeviceSync) Current() int64 { return t.Keys.ToDeviceStream().Current() }

func (t ToDeviceSync) Fill(ctx context.Context, q clientsync.ExtensionQuery, out *clientsync.Extensions) error {
	evs, next, err := t.Keys.SyncToDevice(ctx, q.UserID, q.DeviceID, q.Since, q.Upto, q.Limit)
	out.ToDevice = evs
	if next < q.Upto {
		out.ToDeviceNext = next
	}
	return err
}

// devicesChanged tells the key server that devices were renamed or deleted
// (nil: some unknown set was deleted), so their keys go and trackers hear
// of it. A failure is logged: the device operation itself has succeeded.
func (a *API) devicesChanged(c echo.Context, userID string, deviceIDs []string) {
	if a.opts.E2EE == nil {
		return
	}
	if err := a.opts.E2EE.DevicesChanged(c.Request().Context(), userID, deviceIDs); err != nil {
		a.log.Warn("record device list change", "user", userID, "err", err)
	}
}
