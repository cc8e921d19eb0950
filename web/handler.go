package web

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
)

// contentSecurityPolicy is as strict as the client allows:
//   - scripts only from this origin, plus 'wasm-unsafe-eval' so the Rust
//     crypto WebAssembly can be compiled;
//   - connect-src to any http(s) origin, because the user may sign in to
//     another homeserver (and discover it through its .well-known);
//   - images and media also from blob: (decrypted attachments) and data:;
//   - no plugins, no framing, no <base> rewriting, no form posts elsewhere.
const contentSecurityPolicy = "default-src 'self'; " +
	"script-src 'self' 'wasm-unsafe-eval'; " +
	"style-src 'self'; " +
	"img-src 'self' data: blob: https: http:; " +
	"media-src 'self' blob: https: http:; " +
	"connect-src 'self' https: http:; " +
	"font-src 'self'; " +
	"worker-src 'self' blob:; " +
	"manifest-src 'self'; " +
	"object-src 'none'; " +
	"base-uri 'none'; " +
	"form-action 'self'; " +
	"frame-ancestors 'none'"

const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// placeholderPage is served when the binary was built without the client.
const placeholderPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kabar</title></head>
<body><h1>Kabar</h1>
<p>This Matrix homeserver is running. Sign in with any Matrix client using this server's address.</p>
<p>The bundled web client was not built into this binary. To include it, run <code>make web</code>
(or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>) and then rebuild the server
(<code>make build</code>).</p></body></html>`

// handler serves the embedded client. Files never change at run time, so
// gzip-compressed bodies are computed once and kept.
type handler struct {
	fsys  fs.FS
	built bool
	gz    sync.Map // name -> []byte (gzip) or nil (not worth compressing)
}

func newHandler(fsys fs.FS) *handler {
	_, err := fs.Stat(fsys, "index.html")
	return &handler{fsys: fsys, built: err == nil}
}

// serve answers a GET or HEAD that no API route matched.
func (h *handler) serve(c echo.Context) error {
	req := c.Request()
	if !h.built {
		setSecurityHeaders(c.Response().Header())
		c.Response().Header().Set("Cache-Control", cacheRevalidate)
		return c.HTML(http.StatusOK, placeholderPage)
	}
	name := cleanPath(req.URL.Path)
	if name == "" {
		name = "index.html"
	}
	body, err := readFile(h.fsys, name)
	if err != nil {
		// A missing hashed asset is a real 404 (a stale page asking for an
		// old chunk must not get HTML back); anything else is a client-side
		// route and gets the app shell.
		if isHashedAsset(name) {
			return notFound()
		}
		name = "index.html"
		if body, err = readFile(h.fsys, name); err != nil {
			return notFound()
		}
	}
	return h.write(c, name, body)
}

// write sends body with the caching and encoding headers name calls for.
func (h *handler) write(c echo.Context, name string, body []byte) error {
	hdr := c.Response().Header()
	setSecurityHeaders(hdr)
	if isHashedAsset(name) {
		hdr.Set("Cache-Control", cacheImmutable)
	} else {
		hdr.Set("Cache-Control", cacheRevalidate)
	}
	ctype := contentType(name)
	hdr.Set("Vary", "Accept-Encoding")
	if acceptsGzip(c.Request()) {
		if gz := h.gzipped(name, body); gz != nil {
			hdr.Set("Content-Encoding", "gzip")
			body = gz
		}
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	if c.Request().Method == http.MethodHead {
		hdr.Set("Content-Type", ctype)
		return c.NoContent(http.StatusOK)
	}
	return c.Blob(http.StatusOK, ctype, body)
}

// gzipped returns the cached gzip body of a compressible file, or nil.
func (h *handler) gzipped(name string, body []byte) []byte {
	if v, ok := h.gz.Load(name); ok {
		b, _ := v.([]byte)
		return b
	}
	var out []byte
	if compressible(name) && len(body) >= 1024 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if _, err := zw.Write(body); err == nil && zw.Close() == nil && buf.Len() < len(body) {
			out = buf.Bytes()
		}
	}
	h.gz.Store(name, out)
	return out
}

func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	// Room and user IDs may appear in client URLs: never send them elsewhere.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

func contentType(name string) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(name string) bool {
	switch path.Ext(name) {
	case ".html", ".js", ".mjs", ".css", ".wasm", ".svg", ".json", ".map", ".txt", ".webmanifest":
		return true
	}
	return false
}

// acceptsGzip reports whether the client takes gzip with a non-zero quality
// (RFC 9110 section 12.5.3).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(coding) != "gzip" {
			continue
		}
		q, ok := strings.CutPrefix(strings.TrimSpace(params), "q=")
		if !ok {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}
