package clientapi

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// Server-side key backups (key_backup.yaml; end_to_end_encryption.md
// "Server-side key backups"). The store is used directly: one user's rows.

const backupAlgorithm = "m.megolm_backup.v1.curve25519-aes-sha2"

func (a *API) registerKeyBackup(g routeGroup) {
	auth := a.requireAuth
	g.POST("/room_keys/version", a.createBackup, auth)
	g.GET("/room_keys/version", a.getBackup, auth)
	g.GET("/room_keys/version/:version", a.getBackup, auth)
	g.PUT("/room_keys/version/:version", a.updateBackup, auth)
	g.DELETE("/room_keys/version/:version", a.deleteBackup, auth)
	for _, p := range []string{"/room_keys/keys", "/room_keys/keys/:roomId", "/room_keys/keys/:roomId/:sessionId"} {
		g.PUT(p, a.putBackupKeys, auth)
		g.GET(p, a.getBackupKeys, auth)
		g.DELETE(p, a.deleteBackupKeys, auth)
	}
}

type backupVersionRequest struct {
	Algorithm *string         `json:"algorithm"`
	AuthData  json.RawMessage `json:"auth_data"`
	Version   *string         `json:"version"`
}

func (r backupVersionRequest) validate() error {
	if r.Algorithm == nil || *r.Algorithm == "" {
		return spec.BadJSON("algorithm is required")
	}
	if len(r.AuthData) == 0 || r.AuthData[0] != '{' {
		return spec.BadJSON("auth_data must be an object")
	}
	return nil
}

// parseVersion reads a backup version: a positive decimal we issued.
func parseVersion(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, spec.NotFound("unknown backup version")
	}
	return v, nil
}

// POST /room_keys/version
func (a *API) createBackup(c echo.Context) error {
	var req backupVersionRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	v, err := a.backups().CreateKeyBackupVersion(c.Request().Context(), session(c).UserID, *req.Algorithm, string(req.AuthData))
	if err != nil {
		return err
	}
	return ok(c, map[string]string{"version": strconv.FormatInt(v, 10)})
}

// KeyBackupStore is the key backup part of the store.
type KeyBackupStore interface {
	CreateKeyBackupVersion(ctx context.Context, userID, algorithm, authData string) (int64, error)
	KeyBackupVersion(ctx context.Context, userID string, version int64) (models.KeyBackupVersion, error)
	UpdateKeyBackupAuthData(ctx context.Context, userID string, version int64, authData string) error
	DeleteKeyBackupVersion(ctx context.Context, userID string, version int64) error
	KeyBackupCount(ctx context.Context, userID string, version int64) (int64, error)
	PutBackupKeys(ctx context.Context, userID string, version int64, keys []models.KeyBackupSession) (models.KeyBackupVersion, error)
	BackupKeys(ctx context.Context, userID string, version int64, roomID, sessionID string) ([]models.KeyBackupSession, error)
	DeleteBackupKeys(ctx context.Context, userID string, version int64, roomID, sessionID string) (models.KeyBackupVersion, error)
}

func (a *API) backups() KeyBackupStore { return a.opts.KeyBackups }

// GET /room_keys/version[/{version}]
func (a *API) getBackup(c echo.Context) error {
	var v int64
	if raw := c.Param("version"); raw != "" {
		var err error
		if v, err = parseVersion(raw); err != nil {
			return err
		}
	}
	row, err := a.backups().KeyBackupVersion(c.Request().Context(), session(c).UserID, v)
	if errors.Is(err, models.ErrNotFound) {
		return spec.NotFound("no backup found")
	}
	if err != nil {
		return err
	}
	count, err := a.backups().KeyBackupCount(c.Request().Context(), session(c).UserID, row.Version)
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"algorithm": row.Algorithm, "auth_data": json.RawMessage(row.AuthData),
		"count": count, "etag": strconv.FormatInt(row.Etag, 10), "version": strconv.FormatInt(row.Version, 10)})
}

// PUT /room_keys/version/{version}: only auth_data may change.
func (a *API) updateBackup(c echo.Context) error {
	v, err := parseVersion(c.Param("version"))
	if err != nil {
		return err
	}
	var req backupVersionRequest
	if err := echoserver.BindJSON(c, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	if req.Version != nil && *req.Version != c.Param("version") {
		return spec.InvalidParam("version in body does not match the path")
	}
	ctx, user := c.Request().Context(), session(c).UserID
	row, err := a.backups().KeyBackupVersion(ctx, user, v)
	if errors.Is(err, models.ErrNotFound) {
		return spec.NotFound("unknown backup version")
	} else if err != nil {
		return err
	}
	if row.Algorithm != *req.Algorithm {
		return spec.InvalidParam("algorithm does not match the backup's")
	}
	if err := a.backups().UpdateKeyBackupAuthData(ctx, user, v, string(req.AuthData)); err != nil {
		return err
	}
	return ok(c, struct{}{})
}

// DELETE /room_keys/version/{version}: deleting a deleted backup succeeds.
func (a *API) deleteBackup(c echo.Context) error {
	v, err := parseVersion(c.Param("version"))
	if err != nil {
		return err
	}
	err = a.backups().DeleteKeyBackupVersion(c.Request().Context(), session(c).UserID, v)
	if errors.Is(err, models.ErrNotFound) {
		return spec.NotFound("unknown backup version")
	}
	if err != nil {
		return err
	}
	return ok(c, struct{}{})
}
