package event

import (
	"errors"

	"github.com/kabarchat/kabar/models/spec"
)

// Errors returned by this package; callers test them with errors.Is and map
// them with MatrixError.
var (
	// ErrMalformed: the event is not valid JSON for its room version, or a
	// field has the wrong type or grammar (M_BAD_JSON).
	ErrMalformed = errors.New("malformed event")
	// ErrTooLarge: the event or one of its size-limited fields is over the
	// limit (client-server-api "Size limits"; M_TOO_LARGE).
	ErrTooLarge = errors.New("event too large")
	// ErrSignature: a required signature is missing or does not verify.
	ErrSignature = errors.New("invalid signature")
	// ErrUnknownVersion: a nil room version was passed.
	ErrUnknownVersion = errors.New("unknown room version")
)

// MaxEventSize is the limit on a complete event in canonical JSON, including
// signatures (client-server-api "Size limits").
const MaxEventSize = 65536

// MaxFieldSize limits sender, room_id, type, state_key and event_id
// (client-server-api "Size limits"; appendices "Identifier Grammar").
const MaxFieldSize = 255

// MatrixError maps an error from this package to the Matrix error a client
// or remote server should see: M_TOO_LARGE, M_BAD_JSON or M_FORBIDDEN for
// signature failures. Other errors become M_UNKNOWN.
func MatrixError(err error) *spec.Error {
	switch {
	case errors.Is(err, ErrTooLarge):
		return spec.TooLarge("%v", err)
	case errors.Is(err, ErrMalformed):
		return spec.BadJSON("%v", err)
	case errors.Is(err, ErrSignature):
		return spec.Forbidden("%v", err)
	case errors.Is(err, ErrUnknownVersion):
		return spec.NewError(400, spec.ErrUnsupportedRoomVer, "%v", err)
	}
	return spec.Unknown("internal error")
}
