package media

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"

	"golang.org/x/image/webp"
)

// Animated WebP (Google's "WebP Container Specification", extended format):
// RIFF/WEBP, a VP8X chunk with the animation flag and the canvas size, an
// ANIM chunk, then one ANMF chunk per frame. golang.org/x/image/webp reads
// still images only, so a thumbnail of an animated WebP is made from its
// first frame: the frame's own ALPH/VP8/VP8L chunks are rewrapped as a
// still WebP, decoded, and placed at the frame's offset on the canvas.

var errNoFrame = errors.New("animated webp: no decodable first frame")

// maxFrameBytes bounds the first frame read into memory; the canvas size
// was already checked against the pixel limit by probe.
const maxFrameBytes = 32 << 20

// canvasOfAnimatedWebP reads the canvas size from the VP8X chunk, which
// animatedWebP found at the start of head.
func canvasOfAnimatedWebP(head []byte) image.Config {
	le24 := func(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 }
	return image.Config{Width: le24(head[24:27]) + 1, Height: le24(head[27:30]) + 1}
}

// decodeFirstWebPFrame decodes the first frame of an animated WebP onto a
// transparent canvas of the file's canvas size.
func decodeFirstWebPFrame(r io.Reader) (image.Image, error) {
	br := bufio.NewReader(r)
	var hdr [12]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil || string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WEBP" {
		return nil, errNoFrame
	}
	var canvas image.Config
	for {
		id, size, err := readChunkHeader(br)
		if err != nil {
			return nil, errNoFrame
		}
		switch id {
		case "VP8X":
			var b [30]byte // a fake head: canvasOfAnimatedWebP reads bytes 24..29
			if size != 10 || readFull(br, b[20:30]) != nil {
				return nil, errNoFrame
			}
			canvas = canvasOfAnimatedWebP(b[:])
		case "ANMF":
			if canvas.Width == 0 || size < 16 || size > maxFrameBytes {
				return nil, errNoFrame
			}
			payload := make([]byte, size)
			if readFull(br, payload) != nil {
				return nil, errNoFrame
			}
			return compositeFrame(canvas, payload)
		default:
			if _, err := br.Discard(int(size + size&1)); err != nil {
				return nil, errNoFrame
			}
		}
	}
}

func readChunkHeader(r io.Reader) (string, uint32, error) {
	var h [8]byte
	if err := readFull(r, h[:]); err != nil {
		return "", 0, err
	}
	return string(h[0:4]), binary.LittleEndian.Uint32(h[4:8]), nil
}

func readFull(r io.Reader, b []byte) error {
	_, err := io.ReadFull(r, b)
	return err
}

// compositeFrame decodes an ANMF payload (a 16-byte frame header, then the
// frame's chunks) and draws it on the canvas.
func compositeFrame(canvas image.Config, p []byte) (image.Image, error) {
	le24 := func(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 }
	x, y := 2*le24(p[0:3]), 2*le24(p[3:6])
	fw, fh := le24(p[6:9])+1, le24(p[9:12])+1
	still, err := stillWebP(p[16:], fw, fh)
	if err != nil {
		return nil, err
	}
	frame, err := webp.Decode(bytes.NewReader(still))
	if err != nil {
		return nil, fmt.Errorf("decode first webp frame: %w", err)
	}
	dst := image.NewNRGBA(image.Rect(0, 0, canvas.Width, canvas.Height))
	draw.Draw(dst, frame.Bounds().Add(image.Pt(x, y)), frame, frame.Bounds().Min, draw.Over)
	return dst, nil
}

// stillWebP rewraps a frame's chunks as a still WebP file: the bare VP8 or
// VP8L chunk, or VP8X (alpha flag, frame size) + ALPH + VP8.
func stillWebP(chunks []byte, w, h int) ([]byte, error) {
	var alph, img []byte
	for len(chunks) >= 8 {
		id, size := string(chunks[0:4]), int(binary.LittleEndian.Uint32(chunks[4:8]))
		end := 8 + size + size&1
		if end > len(chunks) {
			end = len(chunks) // a missing pad byte at the very end is tolerated
			if 8+size > len(chunks) {
				return nil, errNoFrame
			}
		}
		switch id {
		case "ALPH":
			alph = chunks[:end]
		case "VP8 ", "VP8L":
			img = chunks[:end]
		}
		chunks = chunks[end:]
	}
	if img == nil {
		return nil, errNoFrame
	}
	var body bytes.Buffer
	body.WriteString("WEBP")
	if alph != nil && string(img[0:4]) == "VP8 " {
		vp8x := make([]byte, 18)
		copy(vp8x, "VP8X")
		binary.LittleEndian.PutUint32(vp8x[4:8], 10)
		vp8x[8] = 0x10 // alpha
		putLE24(vp8x[12:15], w-1)
		putLE24(vp8x[15:18], h-1)
		body.Write(vp8x)
		body.Write(alph)
	}
	body.Write(img)
	out := make([]byte, 8, 8+body.Len())
	copy(out, "RIFF")
	binary.LittleEndian.PutUint32(out[4:8], uint32(body.Len()))
	return append(out, body.Bytes()...), nil
}

func putLE24(b []byte, v int) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }
