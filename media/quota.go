package media

import (
	"context"
	"errors"
	"io"

	"github.com/kabarchat/kabar/models/spec"
)

// Per-user storage quota (Options.MaxBytesPerUser). content-repo.yaml lists
// "the user has reached a quota for uploaded content" under 403 M_FORBIDDEN
// for both upload endpoints.
//
// The check reads the user's total before an upload and bounds the stream
// by what is left, so one upload cannot overshoot; uploads running at the
// same time each see the same total, so the quota is soft by at most what
// is in flight at once (the upload rate limit keeps that small).

// QuotaLeft reports how many more bytes uploader may upload; -1 means
// unlimited.
func (r *Repo) QuotaLeft(ctx context.Context, uploader string) (int64, error) {
	if r.opts.MaxBytesPerUser <= 0 {
		return -1, nil
	}
	used, err := r.opts.Store.UploadedBytes(ctx, uploader)
	if err != nil {
		return 0, err
	}
	return max(0, r.opts.MaxBytesPerUser-used), nil
}

// quotaExceeded is the 403 of an upload over the quota.
func (r *Repo) quotaExceeded() error {
	return spec.Forbidden("upload quota of %d bytes reached; delete media to free space", r.opts.MaxBytesPerUser)
}

// writeUpload streams an upload to a temporary file within limit and, for
// a user's upload, within what is left of the quota.
func (r *Repo) writeUpload(ctx context.Context, uploader string, body io.Reader, limit int64) (*written, error) {
	if uploader == "" {
		return r.files.writeTemp(body, limit)
	}
	left, err := r.QuotaLeft(ctx, uploader)
	switch {
	case err != nil:
		return nil, err
	case left == 0:
		return nil, r.quotaExceeded()
	case left < 0 || (limit > 0 && limit <= left):
		return r.files.writeTemp(body, limit)
	}
	w, err := r.files.writeTemp(body, left)
	var merr *spec.Error
	if errors.As(err, &merr) && merr.Code == spec.ErrTooLarge {
		return nil, r.quotaExceeded()
	}
	return w, err
}
