package echoserver

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/models/spec"
)

func TestUnescapeParams(t *testing.T) {
	cases := []struct {
		name, rawPath, value, want, errcode string
	}{
		{"no RawPath: left alone", "", "!a:b", "!a:b", ""},
		{"escaped room ID", "/x/%21a%3Ab", "%21a%3Ab", "!a:b", ""},
		{"escaped slash in v3 event ID", "/x/%24a%2Fb", "%24a%2Fb", "$a/b", ""},
		{"bad escape", "/x/%ZZ", "%ZZ", "", "M_INVALID_PARAM"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := echo.New()
			req := httptest.NewRequest(http.MethodGet, "/x/y", nil)
			req.URL = &url.URL{Path: "/x/y", RawPath: tc.rawPath}
			c := e.NewContext(req, httptest.NewRecorder())
			c.SetParamNames("id")
			c.SetParamValues(tc.value)
			var got string
			err := UnescapeParams(func(c echo.Context) error { got = c.Param("id"); return nil })(c)
			var me *spec.Error
			switch {
			case tc.errcode == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.errcode != "" && (!errors.As(err, &me) || string(me.Code) != tc.errcode || me.Status != http.StatusBadRequest):
				t.Fatalf("got %v, want 400 %s", err, tc.errcode)
			case got != tc.want:
				t.Fatalf("param = %q, want %q", got, tc.want)
			}
		})
	}
}
