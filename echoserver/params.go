package echoserver

import (
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/models/spec"
)

// UnescapeParams URL-decodes every path parameter once, before the
// handler runs. Echo routes on the escaped path (RawPath) whenever the
// request has one, and then hands handlers the escaped segments: a room ID
// sent as %21abc%3Aexample.org (Synapse escapes '!' and ':') or a v3 event
// ID with an escaped '/' would otherwise reach handlers still encoded. A
// segment that is not valid percent-encoding is 400 M_INVALID_PARAM.
func UnescapeParams(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().URL.RawPath == "" {
			return next(c)
		}
		names, values := c.ParamNames(), c.ParamValues()
		decoded := make([]string, len(values))
		for i, v := range values {
			d, err := url.PathUnescape(v)
			if err != nil {
				name := "?"
				if i < len(names) {
					name = names[i]
				}
				return spec.InvalidParam("path parameter %s is not properly escaped", name)
			}
			decoded[i] = d
		}
		c.SetParamValues(decoded...)
		return next(c)
	}
}
