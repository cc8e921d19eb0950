package echoserver

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/federation/canonicaljson"
	"github.com/kabarchat/kabar/models/spec"
)

// BindJSON reads the request body strictly into dst. An empty body counts as
// {}. Malformed JSON, invalid UTF-8, duplicate keys, lone surrogates and NUL
// characters are 400 M_NOT_JSON; a well-formed body with wrong types is
// 400 M_BAD_JSON.
func BindJSON(c echo.Context, dst any) error {
	body, err := ReadBody(c)
	if err != nil {
		return err
	}
	return DecodeJSON(body, dst)
}

// ReadBody reads the whole (size-limited) request body.
func ReadBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return nil, spec.TooLarge("request body is larger than %d bytes", maxErr.Limit)
		}
		return nil, spec.NewError(http.StatusBadRequest, spec.ErrUnknown, "could not read request body")
	}
	return body, nil
}

// DecodeJSON is BindJSON for a body already read.
func DecodeJSON(body []byte, dst any) error {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := canonicaljson.ValidateNoNUL(body); err != nil {
		return spec.NotJSON("request body is not valid JSON: %v", err)
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return spec.BadJSON("%s", spec.DescribeJSONError("request body", err))
	}
	return nil
}
