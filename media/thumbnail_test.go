package media

import (
	"bytes"
	"context"
	"image"
	"io"
	"testing"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

func TestChooseSize(t *testing.T) {
	cases := []struct {
		w, h   int
		method string
		want   thumbSpec
		ok     bool
	}{
		{32, 32, "crop", thumbSpec{Width: 32, Height: 32, Method: "crop"}, true},
		{50, 40, "crop", thumbSpec{Width: 96, Height: 96, Method: "crop"}, true},
		{100, 100, "crop", thumbSpec{Width: 128, Height: 128, Method: "crop"}, true},
		{100, 100, "scale", thumbSpec{Width: 320, Height: 240, Method: "scale"}, true},
		{320, 300, "scale", thumbSpec{Width: 640, Height: 480, Method: "scale"}, true},
		{801, 10, "scale", thumbSpec{}, false},
		{2000, 10, "crop", thumbSpec{}, false},
	}
	for _, tc := range cases {
		got, ok := chooseSize(tc.w, tc.h, tc.method)
		if got != tc.want || ok != tc.ok {
			t.Errorf("chooseSize(%d,%d,%s) = %+v %v, want %+v %v", tc.w, tc.h, tc.method, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseThumbnailRequest(t *testing.T) {
	bad := [][4]string{{"", "1", "", ""}, {"a", "1", "", ""}, {"-1", "1", "", ""}, {"0", "5", "", ""},
		{"5", "5", "stretch", ""}, {"5", "5", "", "yes"}, {"99999999", "5", "", ""}}
	for _, b := range bad {
		if _, err := ParseThumbnailRequest(b[0], b[1], b[2], b[3]); err == nil {
			t.Errorf("%v accepted", b)
		}
	}
	r, err := ParseThumbnailRequest("64", "48", "", "true")
	if err != nil || r != (ThumbnailRequest{Width: 64, Height: 48, Method: "scale", Animated: true}) {
		t.Fatalf("%+v %v", r, err)
	}
}

// Every input format yields a thumbnail of exactly the expected size.
func TestThumbnailFormats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		r := newTestRepo(t, st, nil)
		cases := []struct {
			format, ct string
			w, h       int // source (WebP: the fixed sample, 150x100)
			req        ThumbnailRequest
			wantW      int
			wantH      int
			wantCT     string
			wantOrig   bool
		}{
			{formatPNG, "image/png", 1000, 500, ThumbnailRequest{Width: 32, Height: 32, Method: "crop"}, 32, 32, "image/png", false},
			{formatJPEG, "image/jpeg", 1000, 500, ThumbnailRequest{Width: 320, Height: 240, Method: "scale"}, 320, 160, "image/jpeg", false},
			{formatJPEG, "image/jpeg", 1000, 500, ThumbnailRequest{Width: 100, Height: 100, Method: "crop"}, 128, 128, "image/jpeg", false},
			{formatGIF, "image/gif", 400, 300, ThumbnailRequest{Width: 96, Height: 96, Method: "crop"}, 96, 96, "image/png", false},
			{formatWebP, "image/webp", 150, 100, ThumbnailRequest{Width: 32, Height: 32, Method: "crop"}, 32, 32, "image/png", false},
			{formatWebP, "image/webp", 150, 100, ThumbnailRequest{Width: 96, Height: 96, Method: "scale"}, 150, 100, "image/png", false},
			{formatPNG, "image/png", 20, 20, ThumbnailRequest{Width: 32, Height: 32, Method: "crop"}, 20, 20, "image/png", true},
			{formatJPEG, "image/jpeg", 1000, 500, ThumbnailRequest{Width: 2000, Height: 2000, Method: "scale"}, 1000, 500, "image/jpeg", true},
			{formatGIF, "image/gif", 400, 300, ThumbnailRequest{Width: 32, Height: 32, Method: "crop", Animated: true}, 400, 300, "image/gif", true},
		}
		for _, tc := range cases {
			data := encodeTest(t, tc.format, tc.w, tc.h)
			mxc, err := r.Upload(ctx, "@a:media.test", tc.ct, "", bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			for pass := 0; pass < 2; pass++ { // the second pass is served from the cache
				c, err := r.Thumbnail(ctx, "media.test", mediaIDOf(mxc), tc.req, OpenOptions{})
				if err != nil {
					t.Fatalf("%s %+v: %v", tc.format, tc.req, err)
				}
				body, _ := io.ReadAll(c.File)
				c.File.Close()
				cfg, _, err := image.DecodeConfig(bytes.NewReader(body))
				if tc.format == formatWebP && tc.wantOrig {
					cfg, err = decodeConfig(formatWebP, bytes.NewReader(body))
				}
				if err != nil || cfg.Width != tc.wantW || cfg.Height != tc.wantH || c.ContentType != tc.wantCT {
					t.Fatalf("%s %+v: got %dx%d %s (%v), want %dx%d %s", tc.format, tc.req, cfg.Width, cfg.Height, c.ContentType, err, tc.wantW, tc.wantH, tc.wantCT)
				}
				if tc.wantOrig != bytes.Equal(body, data) {
					t.Fatalf("%s %+v: original returned = %v, want %v", tc.format, tc.req, !tc.wantOrig, tc.wantOrig)
				}
			}
		}
	})
}

func TestThumbnailRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		r := newTestRepo(t, st, nil)
		cases := []struct {
			name string
			data []byte
			ct   string
			code spec.Errcode
			stat int
		}{
			{"bomb", bombPNG(100000, 100000), "image/png", spec.ErrTooLarge, 413},
			{"text", []byte("just words"), "text/plain", spec.ErrUnknown, 400},
			{"truncated png", encodeTest(t, formatPNG, 100, 100)[:60], "image/png", spec.ErrUnknown, 400},
		}
		for _, tc := range cases {
			mxc, err := r.Upload(ctx, "@a:media.test", tc.ct, "", bytes.NewReader(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.Thumbnail(ctx, "media.test", mediaIDOf(mxc), ThumbnailRequest{Width: 32, Height: 32, Method: "crop"}, OpenOptions{})
			merr, _ := err.(*spec.Error)
			if merr == nil || merr.Code != tc.code || merr.Status != tc.stat {
				t.Fatalf("%s: %v, want %d %s", tc.name, err, tc.stat, tc.code)
			}
		}
	})
}
