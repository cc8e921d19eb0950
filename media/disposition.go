package media

import (
	"mime"
	"strings"
)

// inlineTypes may be served with Content-Disposition: inline
// (content_repo.md "Serving inline content"); all else is an attachment.
var inlineTypes = map[string]bool{
	"text/css": true, "text/plain": true, "text/csv": true, "application/json": true, "application/ld+json": true,
	"image/jpeg": true, "image/gif": true, "image/png": true, "image/apng": true, "image/webp": true, "image/avif": true,
	"video/mp4": true, "video/webm": true, "video/ogg": true, "video/quicktime": true,
	"audio/mp4": true, "audio/webm": true, "audio/aac": true, "audio/mpeg": true, "audio/ogg": true,
	"audio/wave": true, "audio/wav": true, "audio/x-wav": true, "audio/x-pn-wav": true, "audio/flac": true, "audio/x-flac": true,
}

// Disposition is the Content-Disposition of a media response: inline for
// the safe types, attachment otherwise, with the file name (RFC 6266;
// non-ASCII names use filename* of RFC 8187).
func Disposition(contentType, name string) string {
	kind := "attachment"
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil && inlineTypes[strings.ToLower(mt)] {
		kind = "inline"
	}
	if name == "" {
		return kind
	}
	for i := 0; i < len(name); i++ {
		if name[i] < 0x20 || name[i] >= 0x7f {
			// RFC 6266 section 4.3 / RFC 8187: non-ASCII names go in filename*.
			return kind + "; filename*=utf-8''" + rfc8187(name)
		}
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return kind + `; filename="` + r.Replace(name) + `"`
}

// rfc8187 percent-encodes every byte outside attr-char (RFC 8187 section 3.2.1).
func rfc8187(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
