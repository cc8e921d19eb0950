package media

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

func TestAddressAllowed(t *testing.T) {
	loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	cases := []struct {
		ip    string
		allow []netip.Prefix
		want  bool
	}{
		{"8.8.8.8", nil, true}, {"2606:4700::1111", nil, true},
		{"127.0.0.1", nil, false}, {"10.1.2.3", nil, false}, {"172.16.0.1", nil, false}, {"192.168.1.1", nil, false},
		{"169.254.169.254", nil, false}, {"100.64.0.1", nil, false}, {"0.0.0.0", nil, false}, {"::1", nil, false},
		{"fe80::1", nil, false}, {"fd00::1", nil, false}, {"::ffff:127.0.0.1", nil, false}, {"64:ff9b::a00:1", nil, false},
		{"224.0.0.1", nil, false}, {"127.0.0.1", loop, true}, {"10.0.0.1", loop, false},
	}
	for _, tc := range cases {
		if got := AddressAllowed(netip.MustParseAddr(tc.ip), tc.allow); got != tc.want {
			t.Errorf("AddressAllowed(%s, %v) = %v", tc.ip, tc.allow, got)
		}
	}
}

func TestParseOpenGraph(t *testing.T) {
	page := `<html><head><title> Plain title </title><meta name="Description" content="desc">
<meta property="og:title" content="OG title"><meta property="og:image" content="/img.png">
<meta property="og:image" content="/second.png"></head><body><meta property="og:late" content="x"></body>`
	base, _ := url.Parse("http://example.org/a/b")
	og := parseOpenGraph(strings.NewReader(page), base)
	want := map[string]any{"og:title": "OG title", "og:description": "desc", "og:image": "http://example.org/img.png"}
	if len(og) != len(want) {
		t.Fatalf("got %v", og)
	}
	for k, v := range want {
		if og[k] != v {
			t.Fatalf("%s = %v, want %v (all: %v)", k, og[k], v, og)
		}
	}
	og = parseOpenGraph(strings.NewReader(`<title>Only a title</title>`), base)
	if og["og:title"] != "Only a title" {
		t.Fatalf("title fallback: %v", og)
	}
}

func previewServer(t *testing.T) *httptest.Server {
	png := encodeTest(t, formatPNG, 40, 30)
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<html><head><title>T</title><meta property="og:description" content="D">` +
			`<meta property="og:image" content="/pic.png"></head><body>hi</body></html>`))
	})
	mux.HandleFunc("/pic.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(png)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestPreviewURL(t *testing.T) {
	srv := previewServer(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		allowed := newTestRepo(t, st, func(o *Options) {
			o.OutboundAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		})
		og, err := allowed.PreviewURL(ctx, srv.URL+"/page")
		if err != nil {
			t.Fatal(err)
		}
		mxc, _ := og["og:image"].(string)
		if og["og:title"] != "T" || og["og:description"] != "D" || !strings.HasPrefix(mxc, "mxc://media.test/") ||
			og["og:image:width"] != 40 || og["og:image:height"] != 30 || og["og:image:type"] != "image/png" {
			t.Fatalf("preview: %v", og)
		}
		// Cached: a second call answers even with the site gone.
		if again, err := allowed.PreviewURL(ctx, srv.URL+"/page"); err != nil || again["og:title"] != "T" {
			t.Fatalf("cached preview: %v %v", again, err)
		}
		refused := newTestRepo(t, st, nil)
		for _, u := range []string{srv.URL + "/other", "http://localhost:1/", "http://169.254.169.254/latest/meta-data"} {
			if _, err := refused.PreviewURL(ctx, u); !isCode(err, spec.ErrForbidden) {
				t.Fatalf("%s: %v, want M_FORBIDDEN", u, err)
			}
		}
		for _, u := range []string{"ftp://example.org/", "/relative", "http://user:pw@example.org/"} {
			if _, err := refused.PreviewURL(ctx, u); !isCode(err, spec.ErrInvalidParam) {
				t.Fatalf("%s: %v, want M_INVALID_PARAM", u, err)
			}
		}
	})
}

// A redirect from an allowed host to a refused address is refused at dial
// time.
func TestPreviewRedirectToPrivateRefused(t *testing.T) {
	target := previewServer(t)
	hop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(target.URL, "127.0.0.1", "127.0.0.2", 1)+"/page", http.StatusFound)
	}))
	t.Cleanup(hop.Close)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newTestRepo(t, st, func(o *Options) {
			o.OutboundAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		})
		if _, err := r.PreviewURL(context.Background(), hop.URL+"/"); !isCode(err, spec.ErrForbidden) {
			t.Fatalf("redirect to 127.0.0.2: %v, want M_FORBIDDEN", err)
		}
	})
}
