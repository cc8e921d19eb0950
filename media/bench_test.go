package media

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"testing"

	"github.com/kabarchat/kabar/models/store/storetest"
)

// BenchmarkThumbnail12MP times decoding a 4000x3000 JPEG and producing the
// 800x600 scale thumbnail (no cache: a fresh thumbnail each iteration).
func BenchmarkThumbnail12MP(b *testing.B) {
	img := image.NewYCbCr(image.Rect(0, 0, 4000, 3000), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	st := storetest.Open(b, b.TempDir()+"/kabar.db")
	r, err := New(Options{ServerName: "media.test", Store: st, Root: b.TempDir(), MaxUploadBytes: 64 << 20})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		b.StopTimer()
		mxc, err := r.Upload(ctx, "@a:media.test", "image/jpeg", "", bytes.NewReader(buf.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c, err := r.Thumbnail(ctx, "media.test", mediaIDOf(mxc), ThumbnailRequest{Width: 800, Height: 600, Method: "scale"}, OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		c.File.Close()
	}
}
