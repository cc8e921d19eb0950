package main

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/media"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// TestFederatedMedia: hs1 fetches media uploaded on hs2 over signed
// federation (multipart/mixed), caches it, and thumbnails it.
func TestFederatedMedia(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ca := newTestCA(t)
			hs1 := startFedServer(t, ca, "127.0.0.2", db.URL)
			hs2 := startFedServer(t, ca, "127.0.0.3", storetest.URLs(t)[0].URL)
			ctx := context.Background()
			data := bytes.Repeat([]byte("remote bytes "), 10000)
			mxc, err := hs2.srv.media.Upload(ctx, "@bob:"+hs2.ServerName, "text/plain", "notes.txt", bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			id := mxc[strings.LastIndexByte(mxc, '/')+1:]
			for pass := 0; pass < 2; pass++ { // the second read comes from hs1's cache
				c, err := hs1.srv.media.Open(ctx, hs2.ServerName, id, media.OpenOptions{AllowRemote: true})
				if err != nil {
					t.Fatalf("remote open: %v", err)
				}
				got, _ := io.ReadAll(c.File)
				c.File.Close()
				if !bytes.Equal(got, data) || c.ContentType != "text/plain" || c.FileName != "notes.txt" {
					t.Fatalf("remote media: %d bytes, %+v", len(got), c)
				}
			}
			pic, err := hs2.srv.media.Upload(ctx, "@bob:"+hs2.ServerName, "image/png", "", bytes.NewReader(pngBytes(t, 300, 300)))
			if err != nil {
				t.Fatal(err)
			}
			c, err := hs1.srv.media.Thumbnail(ctx, hs2.ServerName, pic[strings.LastIndexByte(pic, '/')+1:],
				media.ThumbnailRequest{Width: 32, Height: 32, Method: "crop"}, media.OpenOptions{AllowRemote: true})
			if err != nil {
				t.Fatalf("remote thumbnail: %v", err)
			}
			cfg, err := png.DecodeConfig(c.File)
			c.File.Close()
			if err != nil || cfg.Width != 32 || cfg.Height != 32 {
				t.Fatalf("remote thumbnail: %+v %v", cfg, err)
			}
			_, err = hs1.srv.media.Open(ctx, hs2.ServerName, "doesNotExist", media.OpenOptions{AllowRemote: true})
			if merr, ok := err.(*spec.Error); !ok || merr.Code != spec.ErrNotFound {
				t.Fatalf("unknown remote media: %v", err)
			}
		})
	}
}
