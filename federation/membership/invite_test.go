package membership

import (
	"errors"
	"fmt"
	"testing"

	"github.com/kabarchat/kabar/federation/fedclient"
)

// TestUnknownEndpoint: only answers meaning "no such endpoint" make an
// invite fall back to PUT /v1/invite; a real refusal is the answer.
func TestUnknownEndpoint(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"404 M_UNRECOGNIZED", &fedclient.HTTPError{Status: 404, Errcode: "M_UNRECOGNIZED"}, true},
		{"404 without a Matrix error", &fedclient.HTTPError{Status: 404}, true},
		{"405 M_UNRECOGNIZED", &fedclient.HTTPError{Status: 405, Errcode: "M_UNRECOGNIZED"}, true},
		{"400 M_UNRECOGNIZED", &fedclient.HTTPError{Status: 400, Errcode: "M_UNRECOGNIZED"}, true},
		{"wrapped", fmt.Errorf("put: %w", &fedclient.HTTPError{Status: 404, Errcode: "M_UNRECOGNIZED"}), true},
		{"404 M_NOT_FOUND (no such user)", &fedclient.HTTPError{Status: 404, Errcode: "M_NOT_FOUND"}, false},
		{"400 M_INVALID_PARAM", &fedclient.HTTPError{Status: 400, Errcode: "M_INVALID_PARAM"}, false},
		{"400 M_INCOMPATIBLE_ROOM_VERSION", &fedclient.HTTPError{Status: 400, Errcode: "M_INCOMPATIBLE_ROOM_VERSION"}, false},
		{"403 M_FORBIDDEN", &fedclient.HTTPError{Status: 403, Errcode: "M_FORBIDDEN"}, false},
		{"transport failure", errors.New("connection refused"), false},
	}
	for _, c := range cases {
		if got := unknownEndpoint(c.err); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
