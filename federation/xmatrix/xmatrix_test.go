package xmatrix

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/models/spec"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Params
		wantErr bool
	}{
		{`X-Matrix origin="a.test",destination="b.test",key="ed25519:k",sig="c2ln"`, Params{"a.test", "b.test", "ed25519:k", "c2ln"}, false},
		{`x-matrix  Origin=a.test:8448 , KEY="ed25519:k",sig=c2ln,extra=1`, Params{"a.test:8448", "", "ed25519:k", "c2ln"}, false},
		{"X-Matrix origin=\"a\\\"b\",key=k,sig=s", Params{`a"b`, "", "k", "s"}, false},
		{`X-Matrix origin="a.test",destination="b.test",key="ed25519:k"`, Params{}, true},
		{`Bearer abc`, Params{}, true},
		{`X-Matrix origin="a.test`, Params{}, true},
		{`X-Matrix origin="a.test" key="k",sig="s"`, Params{}, true},
		{`X-Matrix =x`, Params{}, true},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestFormatRoundTrip(t *testing.T) {
	p := Params{Origin: `we"ird\`, Destination: "b.test", Key: "ed25519:k", Sig: "sig"}
	if got, err := Parse(p.Format()); err != nil || got != p {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
}

func TestMiddleware(t *testing.T) {
	key, _ := keys.Generate()
	other, _ := keys.Generate()
	keyOf := func(_ context.Context, server, keyID string, _ int64) (ed25519.PublicKey, error) {
		if server == "a.test" && keyID == key.ID {
			return key.Public(), nil
		}
		return nil, errors.New("unknown key")
	}
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		var me *spec.Error
		if errors.As(err, &me) {
			c.JSON(me.Status, me.Body())
			return
		}
		c.NoContent(500)
	}
	e.Use(Middleware(MiddlewareOptions{ServerName: "b.test", Keys: keyOf}))
	e.PUT("/_matrix/federation/v1/send/:txn", func(c echo.Context) error {
		return c.String(200, string(Origin(c)))
	})
	const uri = "/_matrix/federation/v1/send/t1?x=1"
	body := `{"pdus":[],"n":12345678901}`
	sign := func(k *keys.SigningKey, origin, dest, method, uri, body string) string {
		h, err := Sign(k, origin, dest, method, uri, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	tests := []struct {
		name   string
		header string
		body   string
		want   int
	}{
		{"valid", sign(key, "a.test", "b.test", "PUT", uri, body), body, 200},
		{"missing", "", body, 401},
		{"garbage", "X-Matrix nonsense", body, 401},
		{"wrong destination", sign(key, "a.test", "c.test", "PUT", uri, body), body, 401},
		{"unknown key", sign(other, "a.test", "b.test", "PUT", uri, body), body, 401},
		{"body changed", sign(key, "a.test", "b.test", "PUT", uri, body), `{"pdus":[1]}`, 401},
		{"method changed", sign(key, "a.test", "b.test", "POST", uri, body), body, 401},
		{"uri changed", sign(key, "a.test", "b.test", "PUT", "/_matrix/federation/v1/send/t2", body), body, 401},
		{"no destination param", strings.Replace(sign(key, "a.test", "b.test", "PUT", uri, body), `destination="b.test",`, "", 1), body, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("PUT", uri, strings.NewReader(tc.body))
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if tc.want == 401 {
				var m map[string]string
				json.Unmarshal(rec.Body.Bytes(), &m)
				if m["errcode"] != "M_UNAUTHORIZED" {
					t.Errorf("errcode %q", m["errcode"])
				}
			} else if rec.Body.String() != "a.test" {
				t.Errorf("origin %q", rec.Body)
			}
		})
	}
}
