package media

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// TestUploadQuota: uploads are refused with 403 M_FORBIDDEN once they would
// take a user past media.max_bytes_per_user, whether or not the length was
// declared; other users and server-side uploads (previews) do not count.
func TestUploadQuota(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		r := newTestRepo(t, st, func(o *Options) { o.MaxBytesPerUser = 1000 })
		put := func(user string, n int) error { // a reader with no known length
			_, err := r.Upload(ctx, user, "text/plain", "", io.MultiReader(strings.NewReader(strings.Repeat("q", n))))
			return err
		}
		steps := []struct {
			name, user string
			size       int
			left       int64
			code       spec.Errcode
		}{
			{"first", "@a:media.test", 600, 400, ""},
			{"over what is left", "@a:media.test", 600, 400, spec.ErrForbidden},
			{"exactly the rest", "@a:media.test", 400, 0, ""},
			{"quota full", "@a:media.test", 1, 0, spec.ErrForbidden},
			{"another user", "@b:media.test", 1000, 0, ""},
			{"server upload", "", 5000, -1, ""},
		}
		for _, s := range steps {
			err := put(s.user, s.size)
			if (s.code == "" && err != nil) || (s.code != "" && !isCode(err, s.code)) {
				t.Fatalf("%s: %v, want %q", s.name, err, s.code)
			}
			left, err := r.QuotaLeft(ctx, s.user)
			if s.user == "" {
				left = -1 // not asked of server uploads
			}
			if err != nil || left != s.left {
				t.Fatalf("%s: left %d %v, want %d", s.name, left, err, s.left)
			}
		}
		// The asynchronous upload path obeys the same quota.
		mxc, _, err := r.Create(ctx, "@a:media.test")
		if err != nil {
			t.Fatal(err)
		}
		err = r.UploadTo(ctx, "@a:media.test", "media.test", mediaIDOf(mxc), "text/plain", "", bytes.NewReader([]byte("x")))
		if !isCode(err, spec.ErrForbidden) {
			t.Fatalf("async upload over quota: %v", err)
		}
	})
}
