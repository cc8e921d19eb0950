package clientapi

import (
	"encoding/json"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/e2ee"
	"github.com/kabarchat/kabar/echoserver"
)

// POST /keys/device_signing/upload (cross_signing.yaml): UIA unless the
// user has no master key yet or the request repeats the stored keys.
func (a *API) uploadCrossSigning(c echo.Context) error {
	var req e2ee.CrossSigningUpload
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	sess := session(c)
	need, err := a.opts.E2EE.CrossSigningNeedsUIA(ctx, sess.UserID, req)
	if err != nil {
		return err
	}
	if need {
		if done, err := a.passwordUIA(c, "device_signing_upload", req.Auth); !done {
			return err
		}
	}
	if err := a.opts.E2EE.UploadCrossSigningKeys(ctx, sess.UserID, req); err != nil {
		return err
	}
	return ok(c, struct{}{})
}

// POST /keys/signatures/upload
func (a *API) uploadSignatures(c echo.Context) error {
	var req map[string]map[string]json.RawMessage
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	failures, err := a.opts.E2EE.UploadSignatures(c.Request().Context(), session(c).UserID, req)
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"failures": failures})
}
