package media

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// TestRemoteThumbnails: the origin's thumbnail is preferred and cached per
// request; the original is fetched and thumbnailed here only when the origin
// cannot thumbnail.
func TestRemoteThumbnails(t *testing.T) {
	pngData := string(encodeTest(t, formatPNG, 100, 100))
	notFound := text(404, "application/json", `{"errcode":"M_NOT_FOUND","error":"no"}`)
	cases := []struct {
		name        string
		fed, legacy map[string]*answer
		frozen      bool
		want        string // body served, "" for a local 32x32 crop, or an errcode
		wantAsked   []string
		wantUnasked []string
	}{
		{"federation thumbnail", map[string]*answer{"/media/thumbnail/": text(200, mp, multipartOf("image/png", "THUMB"))}, nil, false,
			"THUMB", []string{"/_matrix/federation/v1/media/thumbnail/"}, []string{"/download/", "legacy:"}},
		{"legacy thumbnail", nil, map[string]*answer{"/thumbnail/remote.test/": text(200, "image/jpeg", "JPEG")}, false,
			"JPEG", []string{"legacy:/_matrix/media/v3/thumbnail/remote.test/"}, []string{"/download/"}},
		{"origin cannot thumbnail", map[string]*answer{
			"/media/thumbnail/": text(400, "application/json", `{"errcode":"M_UNKNOWN","error":"cannot"}`),
			"/media/download/":  text(200, mp, multipartOf("image/png", pngData))}, nil, false,
			"", []string{"/media/thumbnail/", "/media/download/"}, []string{"legacy:"}},
		{"origin has no such media", map[string]*answer{"/media/thumbnail/": notFound}, nil, false,
			string(spec.ErrNotFound), nil, []string{"/download/", "legacy:"}},
		{"endless thumbnail", map[string]*answer{
			"/media/thumbnail/": {200, mp, func() io.Reader {
				return io.MultiReader(strings.NewReader("--BB\r\n\r\n{}\r\n--BB\r\nContent-Type: image/png\r\n\r\n"), endless{})
			}},
			"/media/download/": notFound}, nil, false,
			string(spec.ErrNotFound), []string{"/media/download/"}, nil},
		{"frozen legacy endpoint", map[string]*answer{"/media/thumbnail/": text(200, mp, multipartOf("image/png", "THUMB"))}, nil, true,
			string(spec.ErrNotFound), nil, []string{"/"}},
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		for _, tc := range cases {
			fake := &fakeRemote{fed: tc.fed, legacy: tc.legacy}
			r := newTestRepo(t, st, func(o *Options) { o.Remote = fake; o.MaxUploadBytes = 2 << 20 })
			id := "t" + strings.ReplaceAll(tc.name, " ", "")
			o := OpenOptions{AllowRemote: true}
			if tc.frozen {
				o.FrozenAfter = 1
			}
			for pass := 0; pass < 2; pass++ { // the second pass is served from the cache
				c, err := r.Thumbnail(ctx, "remote.test", id, ThumbnailRequest{Width: 32, Height: 32, Method: "crop"}, o)
				checkThumb(t, tc.name, c, err, tc.want)
			}
			for _, p := range tc.wantAsked {
				// Successes are cached: asked once for both passes.
				if n := fake.count(p); n == 0 || (n != 1 && !strings.HasPrefix(tc.want, "M_")) {
					t.Fatalf("%s: %s asked %d times: %q", tc.name, p, n, fake.asked)
				}
			}
			for _, p := range tc.wantUnasked {
				if fake.count(p) != 0 {
					t.Fatalf("%s: %s asked: %q", tc.name, p, fake.asked)
				}
			}
		}
	})
}

func checkThumb(t *testing.T, name string, c *Content, err error, want string) {
	t.Helper()
	if strings.HasPrefix(want, "M_") {
		if merr, _ := err.(*spec.Error); merr == nil || string(merr.Code) != want {
			t.Fatalf("%s: %v, want %s", name, err, want)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	body, _ := io.ReadAll(c.File)
	c.File.Close()
	if want == "" {
		cfg, err := png.DecodeConfig(bytes.NewReader(body))
		if err != nil || cfg.Width != 32 || cfg.Height != 32 {
			t.Fatalf("%s: local thumbnail %+v %v", name, cfg, err)
		}
		return
	}
	if string(body) != want || !strings.HasPrefix(c.ContentType, "image/") {
		t.Fatalf("%s: %q %s", name, body, c.ContentType)
	}
}

// TestRemoteThumbnailRetention: a thumbnail fetched without its original
// expires with the remote cache retention and is fetched again.
func TestRemoteThumbnailRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now()
		fake := &fakeRemote{fed: map[string]*answer{"/media/thumbnail/": text(200, mp, multipartOf("image/png", "THUMB"))}}
		r := newTestRepo(t, st, func(o *Options) {
			o.Remote, o.RemoteRetention, o.Now = fake, time.Hour, func() time.Time { return now }
		})
		req := ThumbnailRequest{Width: 96, Height: 96, Method: "scale"}
		for i, advance := range []time.Duration{0, 30 * time.Minute, 2 * time.Hour} {
			now = now.Add(advance)
			if _, err := r.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			c, err := r.Thumbnail(ctx, "remote.test", "retained", req, OpenOptions{AllowRemote: true})
			checkThumb(t, "retention", c, err, "THUMB")
			if want := []int{1, 1, 2}[i]; fake.count("/media/thumbnail/") != want {
				t.Fatalf("step %d: asked %d times, want %d", i, fake.count("/media/thumbnail/"), want)
			}
		}
	})
}
