package models

// Media is one file in the content repository, local or cached from a remote
// server (client-server-api "Content repository"). A row with UploadedAt 0 is
// a pending asynchronous upload (POST /_matrix/media/v1/create) that has not
// received its bytes yet.
type Media struct {
	Origin      string // the server name of the mxc:// URI
	MediaID     string
	Uploader    string // local user ID; empty for remote media
	ContentType string
	FileName    string
	Size        int64
	SHA256      string `gorm:"column:sha256"` // hex of the content, also used as the ETag
	CreatedAt   int64  // ms; for remote media the time the cache was filled
	// UploadedAt is when the bytes arrived (ms); 0 while pending.
	UploadedAt int64
	// ExpiresAt bounds a pending upload (unused_expires_at); 0 once uploaded.
	ExpiresAt int64
	// LastAccessAt drives the remote cache retention (ms).
	LastAccessAt int64
}

// MediaThumbnail is one generated (or remotely fetched) thumbnail of a media
// item, keyed by its target size, method and animation flag.
type MediaThumbnail struct {
	Origin      string
	MediaID     string
	Width       int
	Height      int
	Method      string
	Animated    bool
	ContentType string
	Size        int64
	CreatedAt   int64
}

// URLPreview caches one preview_url answer (the OpenGraph JSON object).
type URLPreview struct {
	URL       string
	JSON      string
	FetchedAt int64
	ExpiresAt int64
}

func (Media) TableName() string          { return "media" }
func (MediaThumbnail) TableName() string { return "media_thumbnails" }
func (URLPreview) TableName() string     { return "url_previews" }
