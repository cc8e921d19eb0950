package clientapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/spec"
)

// keyBackupData is KeyBackupData (definitions/key_backup_data.yaml).
type keyBackupData struct {
	FirstMessageIndex *int64          `json:"first_message_index"`
	ForwardedCount    *int64          `json:"forwarded_count"`
	IsVerified        *bool           `json:"is_verified"`
	SessionData       json.RawMessage `json:"session_data"`
}

type roomKeyBackup struct {
	Sessions map[string]keyBackupData `json:"sessions"`
}

func (d keyBackupData) row(roomID, sessionID string) (models.KeyBackupSession, error) {
	if d.FirstMessageIndex == nil || d.ForwardedCount == nil || d.IsVerified == nil || len(d.SessionData) == 0 || d.SessionData[0] != '{' {
		return models.KeyBackupSession{}, spec.BadJSON("session %s: first_message_index, forwarded_count, is_verified and session_data (object) are required", sessionID)
	}
	return models.KeyBackupSession{RoomID: roomID, SessionID: sessionID, FirstMessageIndex: *d.FirstMessageIndex,
		ForwardedCount: *d.ForwardedCount, IsVerified: *d.IsVerified, SessionData: string(d.SessionData)}, nil
}

// backupTarget reads ?version= and the optional room and session path
// parameters.
func backupTarget(c echo.Context) (version int64, roomID, sessionID string, err error) {
	raw := c.QueryParam("version")
	if raw == "" {
		return 0, "", "", spec.MissingParam("version is required")
	}
	if version, err = parseVersion(raw); err != nil {
		return 0, "", "", err
	}
	return version, c.Param("roomId"), c.Param("sessionId"), nil
}

// backupRows parses a PUT body at the level the path selects.
func backupRows(c echo.Context, roomID, sessionID string) ([]models.KeyBackupSession, error) {
	var rows []models.KeyBackupSession
	addRoom := func(room string, rk roomKeyBackup) error {
		for sid, d := range rk.Sessions {
			r, err := d.row(room, sid)
			if err != nil {
				return err
			}
			rows = append(rows, r)
		}
		return nil
	}
	switch {
	case sessionID != "":
		var d keyBackupData
		if err := echoserver.BindJSON(c, &d); err != nil {
			return nil, err
		}
		r, err := d.row(roomID, sessionID)
		return []models.KeyBackupSession{r}, err
	case roomID != "":
		var rk roomKeyBackup
		if err := echoserver.BindJSON(c, &rk); err != nil {
			return nil, err
		}
		return rows, addRoom(roomID, rk)
	default:
		var all struct {
			Rooms map[string]roomKeyBackup `json:"rooms"`
		}
		if err := echoserver.BindJSON(c, &all); err != nil {
			return nil, err
		}
		for room, rk := range all.Rooms {
			if err := addRoom(room, rk); err != nil {
				return nil, err
			}
		}
		return rows, nil
	}
}

// PUT /room_keys/keys[/{roomId}[/{sessionId}]]: only the current version
// accepts keys (403 M_WRONG_ROOM_KEYS_VERSION with current_version).
func (a *API) putBackupKeys(c echo.Context) error {
	v, roomID, sessionID, err := backupTarget(c)
	if err != nil {
		return err
	}
	rows, err := backupRows(c, roomID, sessionID)
	if err != nil {
		return err
	}
	ctx, user := c.Request().Context(), session(c).UserID
	cur, err := a.backups().KeyBackupVersion(ctx, user, 0)
	if errors.Is(err, models.ErrNotFound) {
		return spec.NotFound("unknown backup version")
	} else if err != nil {
		return err
	}
	if cur.Version != v {
		e := spec.NewError(http.StatusForbidden, "M_WRONG_ROOM_KEYS_VERSION", "wrong backup version")
		e.Extra = map[string]any{"current_version": strconv.FormatInt(cur.Version, 10)}
		return e
	}
	row, err := a.backups().PutBackupKeys(ctx, user, v, rows)
	return a.backupUpdated(c, row, err)
}

// backupUpdated answers {etag, count} after a write.
func (a *API) backupUpdated(c echo.Context, row models.KeyBackupVersion, err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return spec.NotFound("unknown backup version")
	}
	if err != nil {
		return err
	}
	count, err := a.backups().KeyBackupCount(c.Request().Context(), row.UserID, row.Version)
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"etag": strconv.FormatInt(row.Etag, 10), "count": count})
}

// GET /room_keys/keys[/{roomId}[/{sessionId}]]
func (a *API) getBackupKeys(c echo.Context) error {
	v, roomID, sessionID, err := backupTarget(c)
	if err != nil {
		return err
	}
	ctx, user := c.Request().Context(), session(c).UserID
	if _, err := a.backups().KeyBackupVersion(ctx, user, v); errors.Is(err, models.ErrNotFound) {
		return spec.NotFound("unknown backup version")
	} else if err != nil {
		return err
	}
	rows, err := a.backups().BackupKeys(ctx, user, v, roomID, sessionID)
	if err != nil {
		return err
	}
	rooms := map[string]roomKeyBackup{}
	for _, r := range rows {
		rk, ok := rooms[r.RoomID]
		if !ok {
			rk = roomKeyBackup{Sessions: map[string]keyBackupData{}}
			rooms[r.RoomID] = rk
		}
		rk.Sessions[r.SessionID] = keyBackupData{FirstMessageIndex: &r.FirstMessageIndex, ForwardedCount: &r.ForwardedCount,
			IsVerified: &r.IsVerified, SessionData: json.RawMessage(r.SessionData)}
	}
	switch {
	case sessionID != "":
		d, found := rooms[roomID].Sessions[sessionID]
		if !found {
			return spec.NotFound("key not found")
		}
		return ok(c, d)
	case roomID != "":
		rk, found := rooms[roomID]
		if !found {
			rk = roomKeyBackup{Sessions: map[string]keyBackupData{}}
		}
		return ok(c, rk)
	default:
		return ok(c, map[string]any{"rooms": rooms})
	}
}

// DELETE /room_keys/keys[/{roomId}[/{sessionId}]]
func (a *API) deleteBackupKeys(c echo.Context) error {
	v, roomID, sessionID, err := backupTarget(c)
	if err != nil {
		return err
	}
	row, err := a.backups().DeleteBackupKeys(c.Request().Context(), session(c).UserID, v, roomID, sessionID)
	return a.backupUpdated(c, row, err)
}
