package echoserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestCleanURL(t *testing.T) {
	e := New(Options{})
	e.GET("/r/:id", func(c echo.Context) error { return c.String(http.StatusOK, c.Param("id")) })
	cases := []struct {
		target  string
		status  int
		errcode string
	}{
		{"/r/abc?x=1", 200, ""},
		{"/r/%C3%A9?x=%C3%A9", 200, ""},
		{"/r/a%2Fb", 200, ""},
		{"/r/%00", 400, "M_INVALID_PARAM"},
		{"/r/%FF", 400, "M_INVALID_PARAM"},
		{"/r/a?from=%00", 400, "M_INVALID_PARAM"},
		{"/r/a?from=%fe", 400, "M_INVALID_PARAM"},
		{"/r/a?%zz=1", 200, ""}, // a bad escape is the handler's business
	}
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.target, nil))
		var body struct{ Errcode string }
		json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != tc.status || body.Errcode != tc.errcode {
			t.Errorf("%s: %d %s, want %d %s", tc.target, rec.Code, rec.Body, tc.status, tc.errcode)
		}
	}
}
