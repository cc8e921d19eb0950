package media

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// answer is one canned HTTP response.
type answer struct {
	status int
	ct     string
	body   func() io.Reader
}

func text(status int, ct, body string) *answer {
	return &answer{status, ct, func() io.Reader { return strings.NewReader(body) }}
}

var unrecognizedJSON = `{"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}`

// fakeRemote answers signed requests with fed and unsigned ones with legacy
// (nil: 404 M_UNRECOGNIZED), by the first route (a path substring) that
// matches, and records the paths it was asked.
type fakeRemote struct {
	fed, legacy map[string]*answer
	mu          sync.Mutex
	asked       []string
}

func (f *fakeRemote) pick(routes map[string]*answer, path string) *http.Response {
	f.mu.Lock()
	f.asked = append(f.asked, path)
	f.mu.Unlock()
	a := text(404, "application/json", unrecognizedJSON)
	for route, ans := range routes {
		if strings.Contains(path, route) {
			a = ans
		}
	}
	return &http.Response{StatusCode: a.status, Header: http.Header{"Content-Type": {a.ct}}, Body: io.NopCloser(a.body())}
}

func (f *fakeRemote) GetStream(ctx context.Context, dest spec.ServerName, path string) (*http.Response, error) {
	return f.pick(f.fed, path), nil
}

func (f *fakeRemote) GetStreamUnsigned(ctx context.Context, dest spec.ServerName, path string) (*http.Response, error) {
	return f.pick(f.legacy, "legacy:"+path), nil
}

func (f *fakeRemote) count(sub string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, p := range f.asked {
		if strings.Contains(p, sub) {
			n++
		}
	}
	return n
}

// endless never stops sending bytes.
type endless struct{}

func (endless) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = 'x'
	}
	return len(b), nil
}

const mp = "multipart/mixed; boundary=BB"

func multipartOf(ct, body string) string {
	return "--BB\r\nContent-Type: application/json\r\n\r\n{}\r\n--BB\r\nContent-Type: " + ct + "\r\n" +
		"Content-Disposition: attachment; filename=\"r.txt\"\r\n\r\n" + body + "\r\n--BB--\r\n"
}

func TestRemoteResponses(t *testing.T) {
	good := text(200, mp, multipartOf("text/plain", "remote!"))
	legacyGood := text(200, "text/plain", "remote!")
	endlessLegacy := &answer{200, "text/plain", func() io.Reader { return endless{} }}
	cases := []struct {
		name        string
		fed, legacy *answer
		status      int
		code        spec.Errcode
		wantLegacy  bool
	}{
		{"good", good, nil, 0, "", false},
		{"not found", text(404, "application/json", `{"errcode":"M_NOT_FOUND","error":"no"}`), legacyGood, 404, spec.ErrNotFound, false},
		{"server error", text(500, "application/json", `{}`), nil, 502, spec.ErrUnknown, false},
		{"not multipart", text(200, "text/plain", "hi"), nil, 502, spec.ErrUnknown, false},
		{"one part only", text(200, mp, "--BB\r\n\r\n{}\r\n--BB--\r\n"), nil, 502, spec.ErrUnknown, false},
		{"endless content", &answer{200, mp, func() io.Reader {
			return io.MultiReader(strings.NewReader("--BB\r\n\r\n{}\r\n--BB\r\nContent-Type: text/plain\r\n\r\n"), endless{})
		}}, nil, 502, spec.ErrTooLarge, false},
		{"endless metadata", &answer{200, mp, func() io.Reader { return io.MultiReader(strings.NewReader("--BB\r\n\r\n"), endless{}) }}, nil, 502, spec.ErrUnknown, false},
		{"location to loopback", text(200, mp, "--BB\r\n\r\n{}\r\n--BB\r\nLocation: http://127.0.0.1:1/x\r\n\r\n\r\n--BB--\r\n"), nil, 502, spec.ErrUnknown, false},
		// server-server-api "Content Repository": older servers.
		{"legacy after 404 unrecognized", text(404, "application/json", unrecognizedJSON), legacyGood, 0, "", true},
		{"legacy after 405 unrecognized", text(405, "application/json", unrecognizedJSON), legacyGood, 0, "", true},
		{"legacy after 400 unrecognized", text(400, "application/json", unrecognizedJSON), legacyGood, 0, "", true},
		{"legacy after a bare 404", text(404, "text/html", "<h1>Not Found</h1>"), legacyGood, 0, "", true},
		{"legacy not found", text(404, "application/json", unrecognizedJSON), text(404, "application/json", `{"errcode":"M_NOT_FOUND"}`), 404, spec.ErrNotFound, true},
		{"legacy unrecognized too", text(404, "application/json", unrecognizedJSON), nil, 404, spec.ErrNotFound, true},
		{"legacy error", text(404, "application/json", unrecognizedJSON), text(502, "application/json", `{}`), 502, spec.ErrUnknown, true},
		{"legacy endless", text(404, "application/json", unrecognizedJSON), endlessLegacy, 502, spec.ErrTooLarge, true},
		{"400 not unrecognized", text(400, "application/json", `{"errcode":"M_INVALID_PARAM"}`), legacyGood, 502, spec.ErrUnknown, false},
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		for _, tc := range cases {
			fake := &fakeRemote{fed: map[string]*answer{"/download/": tc.fed}, legacy: map[string]*answer{}}
			if tc.legacy != nil {
				fake.legacy["/download/remote.test/"] = tc.legacy
			}
			r := newTestRepo(t, st, func(o *Options) { o.Remote = fake })
			id := "m" + strings.ReplaceAll(tc.name, " ", "")
			c, err := r.Open(context.Background(), "remote.test", id, OpenOptions{AllowRemote: true})
			if n := fake.count("legacy:/_matrix/media/v3/download/remote.test/" + id + "?allow_remote=false"); (n == 1) != tc.wantLegacy {
				t.Fatalf("%s: legacy asked %d times: %q", tc.name, n, fake.asked)
			}
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				body, _ := io.ReadAll(c.File)
				c.File.Close()
				if string(body) != "remote!" || c.ContentType != "text/plain" || (!tc.wantLegacy && c.FileName != "r.txt") {
					t.Fatalf("%s: %q %+v", tc.name, body, c)
				}
				continue
			}
			merr, _ := err.(*spec.Error)
			if merr == nil || merr.Status != tc.status || merr.Code != tc.code {
				t.Fatalf("%s: %v, want %d %s", tc.name, err, tc.status, tc.code)
			}
		}
	})
}
