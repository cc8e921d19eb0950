package spec

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Errcode is a Matrix error code such as M_FORBIDDEN.
// See client-server-api "Standard error response".
type Errcode string

// The error codes Kabar uses (client-server-api, "Common error codes" and
// "Other error codes").
const (
	ErrBadJSON               Errcode = "M_BAD_JSON"
	ErrNotJSON               Errcode = "M_NOT_JSON"
	ErrForbidden             Errcode = "M_FORBIDDEN"
	ErrNotFound              Errcode = "M_NOT_FOUND"
	ErrLimitExceeded         Errcode = "M_LIMIT_EXCEEDED"
	ErrMissingToken          Errcode = "M_MISSING_TOKEN"
	ErrUnknownToken          Errcode = "M_UNKNOWN_TOKEN"
	ErrUnrecognized          Errcode = "M_UNRECOGNIZED"
	ErrUnknown               Errcode = "M_UNKNOWN"
	ErrUnauthorized          Errcode = "M_UNAUTHORIZED"
	ErrUserDeactivated       Errcode = "M_USER_DEACTIVATED"
	ErrUserInUse             Errcode = "M_USER_IN_USE"
	ErrInvalidUsername       Errcode = "M_INVALID_USERNAME"
	ErrInvalidParam          Errcode = "M_INVALID_PARAM"
	ErrMissingParam          Errcode = "M_MISSING_PARAM"
	ErrTooLarge              Errcode = "M_TOO_LARGE"
	ErrWeakPassword          Errcode = "M_WEAK_PASSWORD"
	ErrUnsupportedRoomVer    Errcode = "M_UNSUPPORTED_ROOM_VERSION"
	ErrIncompatibleRoomVer   Errcode = "M_INCOMPATIBLE_ROOM_VERSION"
	ErrRoomInUse             Errcode = "M_ROOM_IN_USE"
	ErrBadState              Errcode = "M_BAD_STATE"
	ErrGuestAccessForbidden  Errcode = "M_GUEST_ACCESS_FORBIDDEN"
	ErrInvalidRoomState      Errcode = "M_INVALID_ROOM_STATE"
	ErrUnknownDevice         Errcode = "M_UNKNOWN_DEVICE"
	ErrInvalidSignature      Errcode = "M_INVALID_SIGNATURE"
	ErrUnsupportedLoginType  Errcode = "M_UNKNOWN" // spec has no dedicated code
	ErrExclusive             Errcode = "M_EXCLUSIVE"
	ErrServerNotTrusted      Errcode = "M_SERVER_NOT_TRUSTED"
	ErrThreepidNotFound      Errcode = "M_THREEPID_NOT_FOUND"
	ErrResourceLimitExceeded Errcode = "M_RESOURCE_LIMIT_EXCEEDED"
)

// Error is a Matrix error: an errcode, a human-readable message and the HTTP
// status it is sent with. Extra fields that some errors carry (retry_after_ms,
// soft_logout) are optional.
type Error struct {
	Status       int
	Code         Errcode
	Message      string
	RetryAfterMs int64 // M_LIMIT_EXCEEDED
	SoftLogout   bool  // M_UNKNOWN_TOKEN
	// Extra holds additional top-level fields for the JSON body (for example
	// the UIA flows of a 401 response).
	Extra map[string]any
	// Cause is the internal error behind this one: it is logged and
	// unwrapped, never written to the client.
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// Unwrap exposes Cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Cause }

// Body is the JSON object written to the client.
func (e *Error) Body() map[string]any {
	body := make(map[string]any, 4+len(e.Extra))
	for k, v := range e.Extra {
		body[k] = v
	}
	body["errcode"] = e.Code
	body["error"] = e.Message
	if e.Code == ErrLimitExceeded && e.RetryAfterMs > 0 {
		body["retry_after_ms"] = e.RetryAfterMs
	}
	if e.Code == ErrUnknownToken {
		body["soft_logout"] = e.SoftLogout
	}
	return body
}

// NewError builds an Error with a formatted message.
func NewError(status int, code Errcode, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Constructors for the common cases; each sets the status the spec pairs with the code.

func BadJSON(format string, args ...any) *Error {
	return NewError(http.StatusBadRequest, ErrBadJSON, format, args...)
}

func NotJSON(format string, args ...any) *Error {
	return NewError(http.StatusBadRequest, ErrNotJSON, format, args...)
}

func Forbidden(format string, args ...any) *Error {
	return NewError(http.StatusForbidden, ErrForbidden, format, args...)
}

func NotFound(format string, args ...any) *Error {
	return NewError(http.StatusNotFound, ErrNotFound, format, args...)
}

func InvalidParam(format string, args ...any) *Error {
	return NewError(http.StatusBadRequest, ErrInvalidParam, format, args...)
}

func MissingParam(format string, args ...any) *Error {
	return NewError(http.StatusBadRequest, ErrMissingParam, format, args...)
}

func MissingToken(format string, args ...any) *Error {
	return NewError(http.StatusUnauthorized, ErrMissingToken, format, args...)
}

// UnknownToken is 401 M_UNKNOWN_TOKEN; softLogout tells the client whether it
// may refresh or re-login without discarding its data (client-server-api
// "Soft logout").
func UnknownToken(softLogout bool, format string, args ...any) *Error {
	e := NewError(http.StatusUnauthorized, ErrUnknownToken, format, args...)
	e.SoftLogout = softLogout
	return e
}

func Unrecognized(status int, format string, args ...any) *Error {
	return NewError(status, ErrUnrecognized, format, args...)
}

func TooLarge(format string, args ...any) *Error {
	return NewError(http.StatusRequestEntityTooLarge, ErrTooLarge, format, args...)
}

func LimitExceeded(retryAfterMs int64) *Error {
	e := NewError(http.StatusTooManyRequests, ErrLimitExceeded, "too many requests, retry in %d ms", retryAfterMs)
	e.RetryAfterMs = retryAfterMs
	return e
}

// Unreachable is the error for a remote server that could not be reached
// or gave no usable answer: 502 M_UNKNOWN, or 504 when the request timed
// out. The transport error (DNS, TCP, TLS text) is kept as Cause for the
// log and never shown to the client.
func Unreachable(server string, cause error) *Error {
	e := NewError(http.StatusBadGateway, ErrUnknown, "could not reach %s", server)
	if errors.Is(cause, context.DeadlineExceeded) {
		e = NewError(http.StatusGatewayTimeout, ErrUnknown, "timed out waiting for %s", server)
	}
	e.Cause = cause
	return e
}

func Unknown(format string, args ...any) *Error {
	return NewError(http.StatusInternalServerError, ErrUnknown, format, args...)
}
