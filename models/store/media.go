package store

import (
	"context"
	"fmt"

	"gorm.io/gorm/clause"

	"github.com/kabarchat/kabar/models"
)

// Content repository storage (client-server-api "Content repository"): the
// metadata of media files; the bytes live on disk, managed by package media.

// CreateMedia inserts a media row; ErrConflict if the ID is taken.
func (s *Store) CreateMedia(ctx context.Context, m *models.Media) error {
	return mapErr(fmt.Sprintf("create media %s/%s", m.Origin, m.MediaID), s.q(ctx).Create(m).Error)
}

// PutRemoteMedia inserts or refreshes a cached remote media row.
func (s *Store) PutRemoteMedia(ctx context.Context, m *models.Media) error {
	err := s.q(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "origin"}, {Name: "media_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"content_type", "file_name", "size", "sha256",
			"created_at", "uploaded_at", "last_access_at"}),
	}).Create(m).Error
	return mapErr(fmt.Sprintf("store remote media %s/%s", m.Origin, m.MediaID), err)
}

// GetMedia loads one media row.
func (s *Store) GetMedia(ctx context.Context, origin, mediaID string) (*models.Media, error) {
	var m models.Media
	err := s.q(ctx).Where("origin = ? AND media_id = ?", origin, mediaID).Take(&m).Error
	if err != nil {
		return nil, mapErr(fmt.Sprintf("load media %s/%s", origin, mediaID), err)
	}
	return &m, nil
}

// CompleteUpload fills a pending row created by POST /create. It matches only
// a still-pending, unexpired row of this uploader, so a second upload or a
// stranger's upload changes nothing: ErrNotFound then, and the caller looks
// at the row to tell which.
func (s *Store) CompleteUpload(ctx context.Context, m *models.Media, now int64) error {
	res := s.q(ctx).Model(&models.Media{}).
		Where("origin = ? AND media_id = ? AND uploader = ? AND uploaded_at = 0 AND expires_at > ?",
			m.Origin, m.MediaID, m.Uploader, now).
		Updates(map[string]any{"content_type": m.ContentType, "file_name": m.FileName, "size": m.Size,
			"sha256": m.SHA256, "uploaded_at": m.UploadedAt, "expires_at": 0, "last_access_at": now})
	if res.Error != nil {
		return mapErr(fmt.Sprintf("complete upload %s/%s", m.Origin, m.MediaID), res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("complete upload %s/%s: %w", m.Origin, m.MediaID, ErrNotFound)
	}
	return nil
}

// CountPendingUploads counts a user's created-but-not-uploaded, unexpired IDs.
func (s *Store) CountPendingUploads(ctx context.Context, uploader string, now int64) (int64, error) {
	var n int64
	err := s.q(ctx).Model(&models.Media{}).
		Where("uploader = ? AND uploaded_at = 0 AND expires_at > ?", uploader, now).Count(&n).Error
	return n, mapErr("count pending uploads", err)
}

// UploadedBytes sums the sizes of a user's uploads (the media quota).
func (s *Store) UploadedBytes(ctx context.Context, uploader string) (int64, error) {
	var n int64
	err := s.q(ctx).Model(&models.Media{}).Where("uploader = ?", uploader).
		Select("COALESCE(SUM(size), 0)").Scan(&n).Error
	return n, mapErr("sum uploaded bytes", err)
}

// TouchMedia records an access (remote cache retention).
func (s *Store) TouchMedia(ctx context.Context, origin, mediaID string, now int64) error {
	err := s.q(ctx).Model(&models.Media{}).Where("origin = ? AND media_id = ?", origin, mediaID).
		Update("last_access_at", now).Error
	return mapErr("touch media", err)
}

// DeleteMedia removes a media row and its thumbnails' rows.
func (s *Store) DeleteMedia(ctx context.Context, origin, mediaID string) error {
	return s.Transaction(ctx, func(tx *Store) error {
		if err := tx.q(ctx).Where("origin = ? AND media_id = ?", origin, mediaID).
			Delete(&models.MediaThumbnail{}).Error; err != nil {
			return mapErr("delete thumbnails", err)
		}
		res := tx.q(ctx).Where("origin = ? AND media_id = ?", origin, mediaID).Delete(&models.Media{})
		if res.Error != nil {
			return mapErr("delete media", res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("delete media %s/%s: %w", origin, mediaID, ErrNotFound)
		}
		return nil
	})
}

// ExpiredMedia lists up to limit media rows that should go: remote media
// not accessed since remoteBefore (0 disables), and pending uploads whose
// unused_expires_at has passed.
func (s *Store) ExpiredMedia(ctx context.Context, local string, remoteBefore, now int64, limit int) ([]models.Media, error) {
	var rows []models.Media
	q := s.q(ctx).Where("uploaded_at = 0 AND expires_at > 0 AND expires_at <= ?", now)
	if remoteBefore > 0 {
		q = q.Or("origin <> ? AND last_access_at < ?", local, remoteBefore)
	}
	err := q.Limit(limit).Find(&rows).Error
	return rows, mapErr("list expired media", err)
}

// ListThumbnails returns every thumbnail of one media item.
func (s *Store) ListThumbnails(ctx context.Context, origin, mediaID string) ([]models.MediaThumbnail, error) {
	var rows []models.MediaThumbnail
	err := s.q(ctx).Where("origin = ? AND media_id = ?", origin, mediaID).Find(&rows).Error
	return rows, mapErr("list thumbnails", err)
}

// GetThumbnail loads one thumbnail row.
func (s *Store) GetThumbnail(ctx context.Context, t models.MediaThumbnail) (*models.MediaThumbnail, error) {
	var row models.MediaThumbnail
	err := s.q(ctx).Where("origin = ? AND media_id = ? AND width = ? AND height = ? AND method = ? AND animated = ?",
		t.Origin, t.MediaID, t.Width, t.Height, t.Method, t.Animated).Take(&row).Error
	if err != nil {
		return nil, mapErr("load thumbnail", err)
	}
	return &row, nil
}

// PutThumbnail records a generated thumbnail (idempotent).
func (s *Store) PutThumbnail(ctx context.Context, t *models.MediaThumbnail) error {
	err := s.q(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(t).Error
	return mapErr("store thumbnail", err)
}

// DeleteThumbnail removes one thumbnail row (its file is gone or expired).
func (s *Store) DeleteThumbnail(ctx context.Context, t models.MediaThumbnail) error {
	err := s.q(ctx).Where("origin = ? AND media_id = ? AND width = ? AND height = ? AND method = ? AND animated = ?",
		t.Origin, t.MediaID, t.Width, t.Height, t.Method, t.Animated).Delete(&models.MediaThumbnail{}).Error
	return mapErr("delete thumbnail", err)
}

// ExpiredRemoteThumbnails lists up to limit thumbnails of remote media made
// or fetched before before (remote cache retention: a thumbnail fetched
// without its original has no media row to expire with).
func (s *Store) ExpiredRemoteThumbnails(ctx context.Context, local string, before int64, limit int) ([]models.MediaThumbnail, error) {
	var rows []models.MediaThumbnail
	err := s.q(ctx).Where("origin <> ? AND created_at < ?", local, before).Limit(limit).Find(&rows).Error
	return rows, mapErr("list expired remote thumbnails", err)
}

// GetURLPreview loads a cached, unexpired preview.
func (s *Store) GetURLPreview(ctx context.Context, url string, now int64) (*models.URLPreview, error) {
	var row models.URLPreview
	err := s.q(ctx).Where("url = ? AND expires_at > ?", url, now).Take(&row).Error
	if err != nil {
		return nil, mapErr("load url preview", err)
	}
	return &row, nil
}

// PutURLPreview caches a preview, replacing an older one.
func (s *Store) PutURLPreview(ctx context.Context, p *models.URLPreview) error {
	err := s.q(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "url"}},
		DoUpdates: clause.AssignmentColumns([]string{"json", "fetched_at", "expires_at"}),
	}).Create(p).Error
	return mapErr("store url preview", err)
}

// DeleteExpiredURLPreviews drops previews past their expiry.
func (s *Store) DeleteExpiredURLPreviews(ctx context.Context, now int64) error {
	return mapErr("delete expired previews", s.q(ctx).Where("expires_at <= ?", now).Delete(&models.URLPreview{}).Error)
}
