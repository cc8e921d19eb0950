package clientapi

import "github.com/labstack/echo/v4"

type boolCapability struct {
	Enabled bool `json:"enabled"`
}

type roomVersionsCapability struct {
	Default   string            `json:"default"`
	Available map[string]string `json:"available"`
}

// GET /_matrix/client/v3/capabilities (capabilities.yaml).
func (a *API) capabilities(c echo.Context) error {
	available := make(map[string]string, len(a.opts.RoomVersions))
	for _, v := range a.opts.RoomVersions {
		available[v] = "stable"
	}
	return ok(c, map[string]any{"capabilities": map[string]any{
		"m.change_password": boolCapability{true},
		"m.set_displayname": boolCapability{true},
		"m.set_avatar_url":  boolCapability{true},
		"m.3pid_changes":    boolCapability{false},
		"m.get_login_token": boolCapability{true},
		"m.room_versions":   roomVersionsCapability{Default: a.opts.DefaultRoomVersion, Available: available},
	}})
}
