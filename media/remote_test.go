package media

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// fakeRemote answers every federation GET with a canned response.
type fakeRemote struct {
	status int
	ct     string
	body   func() io.Reader
}

func (f fakeRemote) GetStream(ctx context.Context, dest spec.ServerName, path string) (*http.Response, error) {
	return &http.Response{StatusCode: f.status, Header: http.Header{"Content-Type": {f.ct}}, Body: io.NopCloser(f.body())}, nil
}

// endless never stops sending bytes.
type endless struct{}

func (endless) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = 'x'
	}
	return len(b), nil
}

func TestRemoteResponses(t *testing.T) {
	const mp = "multipart/mixed; boundary=BB"
	good := "--BB\r\nContent-Type: application/json\r\n\r\n{}\r\n--BB\r\nContent-Type: text/plain\r\n" +
		"Content-Disposition: attachment; filename=\"r.txt\"\r\n\r\nremote!\r\n--BB--\r\n"
	cases := []struct {
		name   string
		remote fakeRemote
		status int
		code   spec.Errcode
	}{
		{"good", fakeRemote{200, mp, func() io.Reader { return strings.NewReader(good) }}, 0, ""},
		{"not found", fakeRemote{404, "application/json", func() io.Reader { return strings.NewReader(`{}`) }}, 404, spec.ErrNotFound},
		{"server error", fakeRemote{500, "application/json", func() io.Reader { return strings.NewReader(`{}`) }}, 502, spec.ErrUnknown},
		{"not multipart", fakeRemote{200, "text/plain", func() io.Reader { return strings.NewReader("hi") }}, 502, spec.ErrUnknown},
		{"one part only", fakeRemote{200, mp, func() io.Reader { return strings.NewReader("--BB\r\n\r\n{}\r\n--BB--\r\n") }}, 502, spec.ErrUnknown},
		{"endless content", fakeRemote{200, mp, func() io.Reader {
			return io.MultiReader(strings.NewReader("--BB\r\n\r\n{}\r\n--BB\r\nContent-Type: text/plain\r\n\r\n"), endless{})
		}}, 502, spec.ErrTooLarge},
		{"endless metadata", fakeRemote{200, mp, func() io.Reader { return io.MultiReader(strings.NewReader("--BB\r\n\r\n"), endless{}) }}, 502, spec.ErrUnknown},
		{"location to loopback", fakeRemote{200, mp, func() io.Reader {
			return strings.NewReader("--BB\r\n\r\n{}\r\n--BB\r\nLocation: http://127.0.0.1:1/x\r\n\r\n\r\n--BB--\r\n")
		}}, 502, spec.ErrUnknown},
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		for _, tc := range cases {
			r := newTestRepo(t, st, func(o *Options) { o.Remote = tc.remote })
			c, err := r.Open(context.Background(), "remote.test", "m"+strings.ReplaceAll(tc.name, " ", ""), OpenOptions{AllowRemote: true})
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				body, _ := io.ReadAll(c.File)
				c.File.Close()
				if string(body) != "remote!" || c.FileName != "r.txt" || c.ContentType != "text/plain" {
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
