package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"maunium.net/go/mautrix"

	"github.com/kabarchat/kabar/configs"
)

func mediaConfig(c *configs.Config) {
	openRegistration(c) // also sets client.max_request_bytes to 4096: uploads must not be capped by it
	c.Media.MaxUploadBytes = 2 << 20
}

func pngBytes(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	img.Set(0, 0, color.White)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// mediaDo sends a raw request with extra headers and returns the response
// (body read).
func (ts *testServer) mediaDo(t *testing.T, method, path, token string, hdr map[string]string, body []byte) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, _ := http.NewRequest(method, ts.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

func TestMediaMautrixRoundTrip(t *testing.T) {
	eachServer(t, mediaConfig, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		token := ts.register(t, "alice", "correct horse")
		cli := newClient(t, ts, "@alice:kabar.test", token)
		data := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB, far over max_request_bytes
		up, err := cli.UploadBytesWithName(ctx, data, "application/pdf", "War and Peace.pdf")
		if err != nil {
			t.Fatalf("upload: %v", err)
		}
		resp, err := cli.Download(ctx, up.ContentURI)
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(got, data) || resp.Header.Get("Content-Type") != "application/pdf" ||
			resp.Header.Get("Content-Disposition") != `attachment; filename="War and Peace.pdf"` {
			t.Fatalf("download: %d bytes, headers %v", len(got), resp.Header)
		}
		pic, err := cli.UploadBytes(ctx, pngBytes(t, 400, 200), "image/png")
		if err != nil {
			t.Fatal(err)
		}
		resp, err = cli.DownloadThumbnail(ctx, pic.ContentURI, 96, 96, mautrix.DownloadThumbnailExtra{Method: "crop"})
		if err != nil {
			t.Fatalf("thumbnail: %v", err)
		}
		cfg, err := png.DecodeConfig(resp.Body)
		resp.Body.Close()
		if err != nil || cfg.Width != 96 || cfg.Height != 96 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline") {
			t.Fatalf("thumbnail: %+v %v %v", cfg, err, resp.Header)
		}
		// Over the media limit: 413 before the body is read.
		if _, err := cli.UploadBytes(ctx, make([]byte, 2<<20+1), "application/octet-stream"); httpStatus(err) != 413 {
			t.Fatalf("oversize upload: %v", err)
		}
	})
}

func TestMediaHeadersRangeETag(t *testing.T) {
	eachServer(t, mediaConfig, func(t *testing.T, ts *testServer) {
		token := ts.register(t, "alice", "correct horse")
		upload := func(ct, name string, body []byte) string {
			resp, data := ts.mediaDo(t, "POST", "/_matrix/media/v3/upload?filename="+url.QueryEscape(name), token,
				map[string]string{"Content-Type": ct}, body)
			var r struct {
				ContentURI string `json:"content_uri"`
			}
			if json.Unmarshal(data, &r); resp.StatusCode != 200 || !strings.HasPrefix(r.ContentURI, "mxc://kabar.test/") {
				t.Fatalf("upload %s: %d %s", ct, resp.StatusCode, data)
			}
			return "/_matrix/client/v1/media/download/kabar.test/" + strings.TrimPrefix(r.ContentURI, "mxc://kabar.test/")
		}
		cases := []struct{ ct, name, wantDisp string }{
			{"text/html", "x.html", `attachment; filename="x.html"`},
			{"image/svg+xml", "x.svg", `attachment; filename="x.svg"`},
			{"image/png", "p.png", `inline; filename="p.png"`},
			{"text/plain", "", "inline"},
		}
		for _, tc := range cases {
			path := upload(tc.ct, tc.name, []byte("<script>alert(1)</script>"))
			if tc.name == "" {
				path = upload(tc.ct, "", []byte("plain"))
			}
			resp, _ := ts.mediaDo(t, "GET", path, token, nil, nil)
			h := resp.Header
			if resp.StatusCode != 200 || h.Get("Content-Disposition") != tc.wantDisp || h.Get("X-Content-Type-Options") != "nosniff" ||
				!strings.HasPrefix(h.Get("Content-Security-Policy"), "sandbox; default-src 'none'; script-src 'none';") ||
				h.Get("Cross-Origin-Resource-Policy") != "cross-origin" || h.Get("Content-Type") != tc.ct {
				t.Fatalf("%s: %d %v", tc.ct, resp.StatusCode, h)
			}
		}
		body := []byte("0123456789abcdefghijklmnopqrstuvwxyz")
		path := upload("text/plain", "r.txt", body)
		resp, data := ts.mediaDo(t, "GET", path, token, map[string]string{"Range": "bytes=10-19"}, nil)
		if resp.StatusCode != 206 || string(data) != string(body[10:20]) {
			t.Fatalf("range: %d %q", resp.StatusCode, data)
		}
		etag := resp.Header.Get("ETag")
		if resp, _ := ts.mediaDo(t, "GET", path, token, map[string]string{"If-None-Match": etag}, nil); etag == "" || resp.StatusCode != 304 {
			t.Fatalf("etag %q: %d", etag, resp.StatusCode)
		}
		if resp, data := ts.mediaDo(t, "GET", path+"/other%20name.txt", token, nil, nil); resp.StatusCode != 200 ||
			resp.Header.Get("Content-Disposition") != `inline; filename="other name.txt"` || string(data) != string(body) {
			t.Fatalf("download with file name: %d %v", resp.StatusCode, resp.Header)
		}
	})
}

func TestMediaErrors(t *testing.T) {
	const secret = "s3cret"
	eachServer(t, func(c *configs.Config) { mediaConfig(c); c.Registration.SharedSecret = secret }, func(t *testing.T, ts *testServer) {
		alice := ts.register(t, "alice", "correct horse")
		bob := ts.register(t, "bob", "correct horse")
		admin := registerAdmin(t, ts, secret)
		resp, data := ts.mediaDo(t, "POST", "/_matrix/media/v3/upload", alice, map[string]string{"Content-Type": "text/plain"}, []byte("hello"))
		var up struct {
			ContentURI string `json:"content_uri"`
		}
		json.Unmarshal(data, &up)
		textID := strings.TrimPrefix(up.ContentURI, "mxc://kabar.test/")
		resp, data = ts.mediaDo(t, "POST", "/_matrix/media/v1/create", alice, nil, nil)
		var created struct {
			ContentURI      string `json:"content_uri"`
			UnusedExpiresAt int64  `json:"unused_expires_at"`
		}
		if json.Unmarshal(data, &created); resp.StatusCode != 200 || created.UnusedExpiresAt == 0 {
			t.Fatalf("create: %d %s", resp.StatusCode, data)
		}
		asyncID := strings.TrimPrefix(created.ContentURI, "mxc://kabar.test/")
		dl := "/_matrix/client/v1/media/download/kabar.test/"
		th := "/_matrix/client/v1/media/thumbnail/kabar.test/"
		cases := []struct {
			name, method, path, token string
			hdr                       map[string]string
			body                      []byte
			status                    int
			errcode                   string
		}{
			{"upload without token", "POST", "/_matrix/media/v3/upload", "", nil, []byte("x"), 401, "M_MISSING_TOKEN"},
			{"download without token", "GET", dl + textID, "", nil, nil, 401, "M_MISSING_TOKEN"},
			{"upload declared too large", "POST", "/_matrix/media/v3/upload", alice, nil, make([]byte, 2<<20+10), 413, "M_TOO_LARGE"},
			{"upload bad content type", "POST", "/_matrix/media/v3/upload", alice, map[string]string{"Content-Type": "a/b; ="}, []byte("x"), 400, "M_INVALID_PARAM"},
			{"unknown media", "GET", dl + "nosuchmedia", alice, nil, nil, 404, "M_NOT_FOUND"},
			{"bad media ID", "GET", dl + "bad.id", alice, nil, nil, 400, "M_INVALID_PARAM"},
			{"bad server name", "GET", "/_matrix/client/v1/media/download/bad%20server/abc", alice, nil, nil, 400, "M_INVALID_PARAM"},
			{"remote server unreachable", "GET", "/_matrix/client/v1/media/download/other.invalid/abc", alice, nil, nil, 502, "M_UNKNOWN"},
			{"remote not allowed on legacy", "GET", "/_matrix/media/v3/download/other.invalid/abc?allow_remote=false", "", nil, nil, 404, "M_NOT_FOUND"},
			{"thumbnail bad width", "GET", th + textID + "?width=x&height=5", alice, nil, nil, 400, "M_INVALID_PARAM"},
			{"thumbnail no height", "GET", th + textID + "?width=5", alice, nil, nil, 400, "M_MISSING_PARAM"},
			{"thumbnail bad method", "GET", th + textID + "?width=5&height=5&method=zoom", alice, nil, nil, 400, "M_INVALID_PARAM"},
			{"thumbnail of text", "GET", th + textID + "?width=5&height=5", alice, nil, nil, 400, "M_UNKNOWN"},
			{"thumbnail unknown", "GET", th + "nosuchmedia?width=5&height=5", alice, nil, nil, 404, "M_NOT_FOUND"},
			{"legacy download frozen", "GET", "/_matrix/media/v3/download/kabar.test/" + textID, "", nil, nil, 404, "M_NOT_FOUND"},
			{"pending not yet uploaded", "GET", dl + asyncID + "?timeout_ms=50", alice, nil, nil, 504, "M_NOT_YET_UPLOADED"},
			{"put by another user", "PUT", "/_matrix/media/v3/upload/kabar.test/" + asyncID, bob, nil, []byte("x"), 403, "M_FORBIDDEN"},
			{"put unknown ID", "PUT", "/_matrix/media/v3/upload/kabar.test/nosuchmedia", alice, nil, []byte("x"), 404, "M_NOT_FOUND"},
			{"put", "PUT", "/_matrix/media/v3/upload/kabar.test/" + asyncID, alice, nil, []byte("late"), 200, ""},
			{"put twice", "PUT", "/_matrix/media/v3/upload/kabar.test/" + asyncID, alice, nil, []byte("again"), 409, "M_CANNOT_OVERWRITE_MEDIA"},
			{"download async", "GET", dl + asyncID, alice, nil, nil, 200, ""},
			{"admin delete by non-admin", "DELETE", "/_synapse/admin/v1/media/kabar.test/" + textID, alice, nil, nil, 403, "M_FORBIDDEN"},
			{"admin delete", "DELETE", "/_synapse/admin/v1/media/kabar.test/" + textID, admin, nil, nil, 200, ""},
			{"deleted media", "GET", dl + textID, alice, nil, nil, 404, "M_NOT_FOUND"},
			{"admin delete unknown", "DELETE", "/_synapse/admin/v1/media/kabar.test/" + textID, admin, nil, nil, 404, "M_NOT_FOUND"},
			{"config", "GET", "/_matrix/client/v1/media/config", alice, nil, nil, 200, ""},
		}
		for _, tc := range cases {
			resp, data := ts.mediaDo(t, tc.method, tc.path, tc.token, tc.hdr, tc.body)
			var e struct{ Errcode string }
			json.Unmarshal(data, &e)
			if resp.StatusCode != tc.status || (tc.errcode != "" && e.Errcode != tc.errcode) {
				t.Errorf("%s: %d %.200s, want %d %s", tc.name, resp.StatusCode, data, tc.status, tc.errcode)
			}
		}
		_, data = ts.mediaDo(t, "GET", "/_matrix/client/v1/media/config", alice, nil, nil)
		if !strings.Contains(string(data), `"m.upload.size":`+strconv.Itoa(2<<20)) {
			t.Fatalf("config: %s", data)
		}
	})
}

// registerAdmin makes an admin account through the shared-secret API.
func registerAdmin(t *testing.T, ts *testServer, secret string) string {
	_, body := ts.do(t, "GET", "/_synapse/admin/v1/register", "", nil)
	var n struct{ Nonce string }
	json.Unmarshal(body, &n)
	req := map[string]any{"nonce": n.Nonce, "username": "root", "password": "pw", "admin": true,
		"mac": macFor(secret, n.Nonce, "root", "pw", "admin")}
	code, body := ts.do(t, "POST", "/_synapse/admin/v1/register", "", jsonBody(req))
	var r struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(body, &r); code != 200 || r.AccessToken == "" {
		t.Fatalf("register admin: %d %s", code, body)
	}
	return r.AccessToken
}

func TestMediaPreviewURL(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<html><head><meta property="og:title" content="Local page"><title>x</title></head></html>`))
	}))
	defer site.Close()
	path := "/_matrix/client/v1/media/preview_url?url=" + url.QueryEscape(site.URL+"/")
	for _, allow := range []bool{true, false} {
		eachServer(t, func(c *configs.Config) {
			mediaConfig(c)
			if allow {
				c.Media.OutboundAllowNetworks = []string{"127.0.0.0/8"}
			}
		}, func(t *testing.T, ts *testServer) {
			token := ts.register(t, "alice", "correct horse")
			resp, data := ts.mediaDo(t, "GET", path, token, nil, nil)
			if allow && (resp.StatusCode != 200 || !strings.Contains(string(data), `"og:title":"Local page"`)) {
				t.Fatalf("allowed preview: %d %s", resp.StatusCode, data)
			}
			if !allow && (resp.StatusCode != 403 || !strings.Contains(string(data), "M_FORBIDDEN")) {
				t.Fatalf("loopback preview: %d %s", resp.StatusCode, data)
			}
		})
	}
}
