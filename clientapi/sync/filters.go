package sync

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store"
)

// CreateFilter validates and stores a filter (POST /user/{userId}/filter)
// and returns its ID.
func (s *Syncer) CreateFilter(ctx context.Context, userID string, body []byte) (string, error) {
	f, err := ParseFilter(body)
	if err != nil {
		return "", spec.BadJSON("%v", err)
	}
	id, err := s.st.PutFilter(ctx, userID, string(f.Raw()))
	if err != nil {
		return "", err
	}
	// Filter IDs may not start with '{' (filter.yaml), so they can never be
	// mistaken for inline JSON.
	return strconv.FormatInt(id, 10), nil
}

// LoadFilter resolves a stored filter ID; 404 M_NOT_FOUND if unknown.
func (s *Syncer) LoadFilter(ctx context.Context, userID, id string) (*Filter, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < 0 {
		return nil, spec.NotFound("unknown filter %q", id)
	}
	raw, err := s.st.Filter(ctx, userID, n)
	if errors.Is(err, store.ErrNotFound) {
		return nil, spec.NotFound("unknown filter %q", id)
	}
	if err != nil {
		return nil, err
	}
	return ParseFilter([]byte(raw))
}

// ResolveFilter reads /sync's filter parameter: inline JSON when it starts
// with '{' (400 M_BAD_JSON if malformed), otherwise a stored filter ID.
func (s *Syncer) ResolveFilter(ctx context.Context, userID, param string) (*Filter, error) {
	if param == "" {
		return nil, nil
	}
	if strings.HasPrefix(strings.TrimSpace(param), "{") {
		f, err := ParseFilter([]byte(param))
		if err != nil {
			return nil, spec.BadJSON("%v", err)
		}
		return f, nil
	}
	return s.LoadFilter(ctx, userID, param)
}
