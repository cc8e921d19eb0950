package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/png"
	"io"
	"os"
	"strings"
	"testing"

	"golang.org/x/image/webp"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// frameChunks returns the image chunks (ALPH, VP8, VP8L) of a still WebP
// test file and its size.
func frameChunks(t *testing.T, file string) ([]byte, int, int) {
	data, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := webp.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for rest := data[12:]; len(rest) >= 8; {
		size := int(binary.LittleEndian.Uint32(rest[4:8]))
		end := min(len(rest), 8+size+size&1)
		if id := string(rest[0:4]); id == "ALPH" || id == "VP8 " || id == "VP8L" {
			out = append(out, rest[:end]...)
		}
		rest = rest[end:]
	}
	return out, cfg.Width, cfg.Height
}

type testFrame struct {
	chunks []byte
	x, y   int // even offsets
	w, h   int
}

func chunk(id string, data []byte) []byte {
	out := append([]byte(id), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(data)))
	out = append(out, data...)
	if len(data)%2 == 1 {
		out = append(out, 0)
	}
	return out
}

// animatedWebPFile builds an animated WebP of the given canvas and frames,
// plus an unknown chunk of padding bytes (to make it large).
func animatedWebPFile(cw, ch int, frames []testFrame, padding int) []byte {
	vp8x := make([]byte, 10)
	vp8x[0] = 0x02 | 0x10 // animation, alpha
	putLE24(vp8x[4:7], cw-1)
	putLE24(vp8x[7:10], ch-1)
	body := append([]byte("WEBP"), chunk("VP8X", vp8x)...)
	body = append(body, chunk("ANIM", make([]byte, 6))...)
	for _, f := range frames {
		hdr := make([]byte, 16)
		putLE24(hdr[0:3], f.x/2)
		putLE24(hdr[3:6], f.y/2)
		putLE24(hdr[6:9], f.w-1)
		putLE24(hdr[9:12], f.h-1)
		putLE24(hdr[12:15], 100)
		body = append(body, chunk("ANMF", append(hdr, f.chunks...))...)
	}
	if padding > 0 {
		body = append(body, chunk("XPAD", make([]byte, padding))...)
	}
	out := append([]byte("RIFF"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(body)))
	return append(out, body...)
}

// TestAnimatedWebPThumbnails: without animated=true an animated WebP gets a
// still of its first frame; with it, the original; a first frame that
// cannot be decoded falls back to the original when it is small.
func TestAnimatedWebPThumbnails(t *testing.T) {
	lossy, lw, lh := frameChunks(t, "sample.webp")
	alpha, aw, ah := frameChunks(t, "alpha.webp")
	lossless, nw, nh := frameChunks(t, "lossless.webp")
	bad := chunk("VP8 ", []byte("not a vp8 bitstream at all"))
	crop32 := ThumbnailRequest{Width: 32, Height: 32, Method: "crop"}
	cases := []struct {
		name       string
		file       []byte
		req        ThumbnailRequest
		wantW      int // 0: the original is served
		wantH      int
		wantStatus int
	}{
		{"lossy first frame", animatedWebPFile(lw, lh, []testFrame{{lossy, 0, 0, lw, lh}, {bad, 0, 0, 4, 4}}, 0), crop32, 32, 32, 200},
		{"alpha first frame", animatedWebPFile(aw, ah, []testFrame{{alpha, 0, 0, aw, ah}}, 0), ThumbnailRequest{Width: 96, Height: 96, Method: "crop"}, 96, 96, 200},
		{"lossless frame at an offset", animatedWebPFile(nw+40, nh+20, []testFrame{{lossless, 40, 20, nw, nh}}, 0),
			ThumbnailRequest{Width: 800, Height: 600, Method: "scale"}, nw + 40, nh + 20, 200},
		{"animated wanted", animatedWebPFile(lw, lh, []testFrame{{lossy, 0, 0, lw, lh}}, 0), ThumbnailRequest{Width: 32, Height: 32, Method: "crop", Animated: true}, 0, 0, 200},
		{"undecodable, small", animatedWebPFile(lw, lh, []testFrame{{bad, 0, 0, lw, lh}}, 0), crop32, 0, 0, 200},
		{"undecodable, large", animatedWebPFile(lw, lh, []testFrame{{bad, 0, 0, lw, lh}}, maxAnimatedBytes), crop32, 0, 0, 400},
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		r := newTestRepo(t, st, func(o *Options) { o.MaxUploadBytes = 8 << 20 })
		for _, tc := range cases {
			mxc, err := r.Upload(ctx, "@a:media.test", "image/webp", "", bytes.NewReader(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			c, err := r.Thumbnail(ctx, "media.test", mediaIDOf(mxc), tc.req, OpenOptions{})
			if tc.wantStatus != 200 {
				merr, _ := err.(*spec.Error)
				if merr == nil || merr.Status != tc.wantStatus || !strings.Contains(merr.Message, "animated WebP") {
					t.Fatalf("%s: %v, want %d", tc.name, err, tc.wantStatus)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			body, _ := io.ReadAll(c.File)
			c.File.Close()
			if tc.wantW == 0 {
				if !bytes.Equal(body, tc.file) || c.ContentType != "image/webp" {
					t.Fatalf("%s: want the original, got %d bytes of %s", tc.name, len(body), c.ContentType)
				}
				continue
			}
			img, err := png.Decode(bytes.NewReader(body))
			if err != nil || img.Bounds() != image.Rect(0, 0, tc.wantW, tc.wantH) {
				t.Fatalf("%s: %v %v, want %dx%d", tc.name, err, img, tc.wantW, tc.wantH)
			}
			if tc.name == "lossless frame at an offset" { // the canvas around the frame stays transparent
				if _, _, _, a := img.At(5, 5).RGBA(); a != 0 {
					t.Fatalf("%s: canvas corner alpha %d", tc.name, a)
				}
			}
		}
	})
}
