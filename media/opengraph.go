package media

import (
	"io"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// Limits on what a page can put into a preview.
const (
	maxOGTags     = 50
	maxOGValueLen = 1000
)

// parseOpenGraph reads OpenGraph <meta property="og:..."> tags, falling back
// to <title> and <meta name="description"> (authed-content-repo.yaml
// preview_url: "The OpenGraph data for the URL"). It stops at <body>: the
// metadata lives in <head>, and tokenizing stops early on large pages.
// og:image is resolved against base.
func parseOpenGraph(r io.Reader, base *url.URL) map[string]any {
	og := map[string]any{}
	var title, description string
	z := html.NewTokenizer(r)
	inTitle := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return finishOpenGraph(og, title, description, base)
		case html.TextToken:
			if inTitle && title == "" {
				title = strings.TrimSpace(string(z.Text()))
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "title" {
				inTitle = false
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "body":
				return finishOpenGraph(og, title, description, base)
			case "title":
				inTitle = tt == html.StartTagToken
			case "meta":
				if hasAttr {
					readMeta(z, og, &description)
				}
			}
		}
	}
}

func readMeta(z *html.Tokenizer, og map[string]any, description *string) {
	var property, name, content string
	for {
		k, v, more := z.TagAttr()
		switch string(k) {
		case "property":
			property = string(v)
		case "name":
			name = strings.ToLower(string(v))
		case "content":
			content = string(v)
		}
		if !more {
			break
		}
	}
	content = clip(strings.TrimSpace(content))
	switch {
	case strings.HasPrefix(property, "og:") && len(og) < maxOGTags && len(property) <= 100:
		if _, seen := og[property]; !seen && content != "" {
			og[property] = content // the first of repeated tags is the primary one (ogp.me "Arrays")
		}
	case name == "description" && *description == "":
		*description = content
	}
}

func finishOpenGraph(og map[string]any, title, description string, base *url.URL) map[string]any {
	if _, ok := og["og:title"]; !ok && title != "" {
		og["og:title"] = clip(title)
	}
	if _, ok := og["og:description"]; !ok && description != "" {
		og["og:description"] = description
	}
	if img, ok := og["og:image"].(string); ok {
		ref, err := url.Parse(img)
		if err != nil || base == nil {
			delete(og, "og:image")
		} else {
			og["og:image"] = base.ResolveReference(ref).String()
		}
	}
	return og
}

func clip(s string) string {
	if len(s) <= maxOGValueLen {
		return s
	}
	return strings.ToValidUTF8(s[:maxOGValueLen], "") // drops a cut UTF-8 sequence
}
