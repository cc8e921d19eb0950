package clientapi

import "github.com/labstack/echo/v4"

// supportedVersions are the client-server spec versions Kabar implements
// (versions.yaml).
var supportedVersions = []string{
	"r0.6.1", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8",
	"v1.9", "v1.10", "v1.11", "v1.12",
}

type versionsResponse struct {
	Versions         []string        `json:"versions"`
	UnstableFeatures map[string]bool `json:"unstable_features"`
}

// GET /_matrix/client/versions
func (a *API) versions(c echo.Context) error {
	return ok(c, versionsResponse{Versions: supportedVersions, UnstableFeatures: map[string]bool{
		// Simplified sliding sync (MSC4186, sliding_sync.go), named as
		// Synapse advertises it: Element X looks for it here.
		"org.matrix.simplified_msc3575": true,
	}})
}
