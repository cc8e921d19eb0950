package migrations

import "gorm.io/gorm"

// Frozen row shapes of migration 6: the content repository. Do not change;
// add a new migration instead.

type mediaV6 struct {
	Origin       string `gorm:"primaryKey;size:255"`
	MediaID      string `gorm:"primaryKey;size:255"`
	Uploader     string `gorm:"size:255;not null;default:'';index:idx_media_uploader_pending,priority:1"`
	ContentType  string `gorm:"size:255;not null;default:''"`
	FileName     string `gorm:"size:1024;not null;default:''"`
	Size         int64  `gorm:"not null;default:0"`
	SHA256       string `gorm:"column:sha256;size:64;not null;default:''"`
	CreatedAt    int64  `gorm:"not null"`
	UploadedAt   int64  `gorm:"not null;default:0;index:idx_media_uploader_pending,priority:2"`
	ExpiresAt    int64  `gorm:"not null;default:0"`
	LastAccessAt int64  `gorm:"not null;default:0;index"`
}

func (mediaV6) TableName() string { return "media" }

type mediaThumbnailV6 struct {
	Origin      string `gorm:"primaryKey;size:255"`
	MediaID     string `gorm:"primaryKey;size:255"`
	Width       int    `gorm:"primaryKey;autoIncrement:false"`
	Height      int    `gorm:"primaryKey;autoIncrement:false"`
	Method      string `gorm:"primaryKey;size:16"`
	Animated    bool   `gorm:"primaryKey"`
	ContentType string `gorm:"size:255;not null"`
	Size        int64  `gorm:"not null"`
	CreatedAt   int64  `gorm:"not null"`
}

func (mediaThumbnailV6) TableName() string { return "media_thumbnails" }

type urlPreviewV6 struct {
	URL       string `gorm:"primaryKey;size:2048"`
	JSON      string `gorm:"column:json;type:text;not null"`
	FetchedAt int64  `gorm:"not null"`
	ExpiresAt int64  `gorm:"not null;index"`
}

func (urlPreviewV6) TableName() string { return "url_previews" }

func mediaV6Up(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&mediaV6{}, &mediaThumbnailV6{}, &urlPreviewV6{})
}
