package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	return img
}

func encodeTest(t testing.TB, format string, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	img := testImage(w, h)
	var err error
	switch format {
	case formatJPEG:
		err = jpeg.Encode(&buf, img, nil)
	case formatPNG:
		err = png.Encode(&buf, img)
	case formatGIF:
		err = gif.Encode(&buf, img, nil)
	case formatWebP:
		data, rerr := os.ReadFile("testdata/sample.webp") // 150x100, from golang.org/x/image testdata
		if rerr != nil {
			t.Fatal(rerr)
		}
		return data
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bombPNG is a valid PNG signature and IHDR declaring w x h pixels, with no
// image data: what a decompression bomb looks like to DecodeConfig.
func bombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	binary.Write(&b, binary.BigEndian, uint32(13))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func newTestRepo(t *testing.T, st *store.Store, mutate func(*Options)) *Repo {
	t.Helper()
	opts := Options{ServerName: "media.test", Store: st, Root: t.TempDir(), MaxUploadBytes: 1 << 20}
	if mutate != nil {
		mutate(&opts)
	}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mediaIDOf(mxc string) string { return mxc[strings.LastIndexByte(mxc, '/')+1:] }

func TestUploadOpenDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		r := newTestRepo(t, st, nil)
		body := bytes.Repeat([]byte("kabar"), 1000)
		mxc, err := r.Upload(ctx, "@a:media.test", "text/plain", "a.txt", bytes.NewReader(body))
		if err != nil || !strings.HasPrefix(mxc, "mxc://media.test/") {
			t.Fatalf("upload: %q %v", mxc, err)
		}
		c, err := r.Open(ctx, "media.test", mediaIDOf(mxc), OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(c.File)
		c.File.Close()
		if !bytes.Equal(got, body) || c.ContentType != "text/plain" || c.FileName != "a.txt" || c.Size != int64(len(body)) {
			t.Fatalf("round trip: %d bytes, %+v", len(got), c)
		}
		if _, err := r.Upload(ctx, "@a:media.test", "", "", bytes.NewReader(make([]byte, 1<<20+1))); !isCode(err, spec.ErrTooLarge) {
			t.Fatalf("oversize upload: %v", err)
		}
		if err := r.Delete(ctx, "media.test", mediaIDOf(mxc)); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Open(ctx, "media.test", mediaIDOf(mxc), OpenOptions{}); !isCode(err, spec.ErrNotFound) {
			t.Fatalf("open deleted: %v", err)
		}
		entries, _ := os.ReadDir(r.files.root + "/tmp")
		if len(entries) != 0 {
			t.Fatalf("temporary files left: %d", len(entries))
		}
	})
}

func isCode(err error, code spec.Errcode) bool {
	var merr *spec.Error
	return errors.As(err, &merr) && merr.Code == code
}

func TestAsyncUpload(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		r := newTestRepo(t, st, func(o *Options) { o.MaxPendingUploads = 2 })
		mxc, exp, err := r.Create(ctx, "@a:media.test")
		if err != nil || exp <= time.Now().UnixMilli() {
			t.Fatal(err, exp)
		}
		id := mediaIDOf(mxc)
		// A download waits, then gives up with 504 M_NOT_YET_UPLOADED.
		if _, err := r.Open(ctx, "media.test", id, OpenOptions{Wait: 50 * time.Millisecond}); !isCode(err, ErrNotYetUploaded) {
			t.Fatalf("pending download: %v", err)
		}
		done := make(chan error, 1)
		go func() {
			c, err := r.Open(ctx, "media.test", id, OpenOptions{Wait: 5 * time.Second})
			if err == nil {
				c.File.Close()
			}
			done <- err
		}()
		time.Sleep(20 * time.Millisecond)
		cases := []struct {
			user string
			id   string
			code spec.Errcode
		}{
			{"@b:media.test", id, spec.ErrForbidden},
			{"@a:media.test", "unknownID", spec.ErrNotFound},
			{"@a:media.test", id, ""},
			{"@a:media.test", id, ErrCannotOverwrite},
		}
		for _, tc := range cases {
			err := r.UploadTo(ctx, tc.user, "media.test", tc.id, "text/plain", "", strings.NewReader("hi"))
			if (tc.code == "" && err != nil) || (tc.code != "" && !isCode(err, tc.code)) {
				t.Fatalf("UploadTo %s %s: %v, want %s", tc.user, tc.id, err, tc.code)
			}
		}
		if err := <-done; err != nil {
			t.Fatalf("waiting download: %v", err)
		}
		r.Create(ctx, "@a:media.test")
		r.Create(ctx, "@a:media.test")
		if _, _, err := r.Create(ctx, "@a:media.test"); !isCode(err, spec.ErrLimitExceeded) {
			t.Fatalf("third pending: %v", err)
		}
	})
}

func TestSweepExpiredPending(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now()
		r := newTestRepo(t, st, func(o *Options) { o.Now = func() time.Time { return now } })
		mxc, _, err := r.Create(ctx, "@a:media.test")
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(25 * time.Hour)
		if n, err := r.Sweep(ctx); err != nil || n != 1 {
			t.Fatalf("sweep: %d %v", n, err)
		}
		if _, err := st.GetMedia(ctx, "media.test", mediaIDOf(mxc)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired pending upload still there: %v", err)
		}
	})
}
