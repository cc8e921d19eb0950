package media

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"github.com/kabarchat/kabar/models/spec"
)

// Image formats the thumbnailer reads. Each is sniffed from magic bytes and
// decoded by its own package: no reliance on the global image registry.
const (
	formatJPEG = "jpeg"
	formatPNG  = "png"
	formatGIF  = "gif"
	formatWebP = "webp"
	// formatAnimWebP is an animated WebP: thumbnailed from its first frame
	// (webpanim.go); APNG has no such case, it decodes as a still PNG.
	formatAnimWebP = "webp-animated"
)

// thumbSpec is one thumbnail size and method (client-server-api "Thumbnails").
type thumbSpec struct {
	Width, Height int
	Method        string
	Animated      bool
}

// standardSizes are the dimensions the spec says servers SHOULD produce
// ("Thumbnails"). Requests are snapped up to the smallest covering one so
// the cache holds a handful of files per image, not one per requested size.
var standardSizes = []thumbSpec{
	{Width: 32, Height: 32, Method: "crop"},
	{Width: 96, Height: 96, Method: "crop"},
	{Width: 320, Height: 240, Method: "scale"},
	{Width: 640, Height: 480, Method: "scale"},
	{Width: 800, Height: 600, Method: "scale"},
}

// maxExactCrop bounds crop sizes beyond the standard ones; they are rounded
// up to a multiple of cropStep to keep the cache small.
const (
	maxExactCrop = 1024
	cropStep     = 32
)

// chooseSize picks the thumbnail to generate for a request. ok is false when
// no thumbnail fits and the original should be served (it is at least as
// large as asked: the spec forbids returning less, never more).
func chooseSize(w, h int, method string) (thumbSpec, bool) {
	for _, s := range standardSizes {
		if s.Method == method && s.Width >= w && s.Height >= h {
			return s, true
		}
	}
	if method == "crop" && w <= maxExactCrop && h <= maxExactCrop {
		up := func(n int) int { return (n + cropStep - 1) / cropStep * cropStep }
		return thumbSpec{Width: up(w), Height: up(h), Method: "crop"}, true
	}
	return thumbSpec{}, false
}

// sniff names the image format from the first bytes of a file.
func sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\xff\xd8\xff")):
		return formatJPEG
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return formatGIF
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return formatWebP
	}
	return ""
}

// animatedWebP reports a VP8X header with the animation flag: such files
// are served whole when animation is wanted, else their first frame is
// thumbnailed.
func animatedWebP(head []byte) bool {
	return len(head) >= 30 && string(head[12:16]) == "VP8X" && head[20]&0x02 != 0
}

func decodeConfig(format string, r io.Reader) (image.Config, error) {
	switch format {
	case formatJPEG:
		return jpeg.DecodeConfig(r)
	case formatPNG:
		return png.DecodeConfig(r)
	case formatGIF:
		return gif.DecodeConfig(r)
	case formatWebP:
		return webp.DecodeConfig(r)
	}
	return image.Config{}, fmt.Errorf("unsupported image format")
}

func decode(format string, r io.Reader) (image.Image, error) {
	switch format {
	case formatJPEG:
		return jpeg.Decode(r)
	case formatPNG:
		return png.Decode(r)
	case formatGIF:
		return gif.Decode(r) // the first frame
	case formatWebP:
		return webp.Decode(r)
	case formatAnimWebP:
		return decodeFirstWebPFrame(r)
	}
	return nil, fmt.Errorf("unsupported image format")
}

// cannotThumbnail is the spec's 400 for content it cannot thumbnail
// (authed-content-repo.yaml, thumbnail 400 example).
func cannotThumbnail() error {
	return spec.NewError(400, spec.ErrUnknown, "cannot generate thumbnails for the requested content")
}

// probe reads the format and dimensions of an image, refusing those whose
// pixel count exceeds maxPixels before anything is decoded: a small file can
// declare a huge canvas (a decompression bomb).
func probe(r io.ReadSeeker, maxPixels int64) (string, image.Config, []byte, error) {
	head := make([]byte, 32)
	n, _ := io.ReadFull(r, head)
	head = head[:n]
	format := sniff(head)
	if format == "" {
		return "", image.Config{}, head, cannotThumbnail()
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return "", image.Config{}, head, fmt.Errorf("rewind image: %w", err)
	}
	var cfg image.Config
	var err error
	if format == formatWebP && animatedWebP(head) {
		format, cfg = formatAnimWebP, canvasOfAnimatedWebP(head)
	} else if cfg, err = decodeConfig(format, bufio.NewReader(r)); err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return "", image.Config{}, head, cannotThumbnail()
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return "", cfg, head, spec.TooLarge("image of %dx%d pixels is too large to thumbnail", cfg.Width, cfg.Height)
	}
	return format, cfg, head, nil
}

// resize makes the thumbnail: "scale" fits the image inside the box keeping
// its aspect ratio; "crop" fills the box and cuts the overflow, centred.
// Neither ever upscales (client-server-api "Thumbnails").
func resize(src image.Image, t thumbSpec) image.Image {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if t.Method == "crop" {
		tw, th := min(t.Width, sw), min(t.Height, sh)
		cw, ch := sw, sh // the source rectangle with the target's aspect
		if sw*th > sh*tw {
			cw = max(1, sh*tw/th)
		} else {
			ch = max(1, sw*th/tw)
		}
		x0, y0 := b.Min.X+(sw-cw)/2, b.Min.Y+(sh-ch)/2
		dst := image.NewRGBA(image.Rect(0, 0, tw, th))
		draw.BiLinear.Scale(dst, dst.Bounds(), src, image.Rect(x0, y0, x0+cw, y0+ch), draw.Src, nil)
		return dst
	}
	tw, th := scaleDims(sw, sh, t.Width, t.Height)
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	draw.BiLinear.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	return dst
}

// scaleDims fits sw x sh inside w x h keeping the aspect ratio, never larger
// than the source.
func scaleDims(sw, sh, w, h int) (int, int) {
	if sw <= w && sh <= h {
		return sw, sh
	}
	if w*sh < h*sw { // width is the binding side
		return w, max(1, sh*w/sw)
	}
	return max(1, sw*h/sh), h
}

// encode writes a thumbnail: JPEG stays JPEG (photos), everything else
// becomes PNG (keeps transparency). Both are on the spec's inline list.
func encode(w io.Writer, img image.Image, srcFormat string) (string, error) {
	if srcFormat == formatJPEG {
		return "image/jpeg", jpeg.Encode(w, img, &jpeg.Options{Quality: 82})
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return "image/png", enc.Encode(w, img)
}
