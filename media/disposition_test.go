package media

import "testing"

func TestDisposition(t *testing.T) {
	cases := []struct{ ct, name, want string }{
		{"image/png", "", "inline"},
		{"IMAGE/PNG; foo=bar", "a.png", `inline; filename="a.png"`},
		{"text/html", "x.html", `attachment; filename="x.html"`},
		{"image/svg+xml", "", "attachment"},
		{"application/octet-stream", `q"uo\te.bin`, `attachment; filename="q\"uo\\te.bin"`},
		{"text/plain", "héllo wörld.txt", "inline; filename*=utf-8''h%C3%A9llo%20w%C3%B6rld.txt"},
		{"not a type", "x", `attachment; filename="x"`},
	}
	for _, tc := range cases {
		if got := Disposition(tc.ct, tc.name); got != tc.want {
			t.Errorf("disposition(%q, %q) = %s, want %s", tc.ct, tc.name, got, tc.want)
		}
	}
}
