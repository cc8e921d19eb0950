package search

import (
	"context"

	"github.com/kabarchat/kabar/models/spec"
)

// UserDirectoryRequest is the body of POST /user_directory/search.
type UserDirectoryRequest struct {
	SearchTerm *string `json:"search_term"`
	Limit      *int    `json:"limit"`
}

// UserDirectoryResponse is its 200 body.
type UserDirectoryResponse struct {
	Results []DirectoryUser `json:"results"`
	Limited bool            `json:"limited"`
}

// DirectoryUser is one user in the results.
type DirectoryUser struct {
	UserID      string `json:"user_id"`
	DisplayName string `json:"display_name,omitempty"`
	AvatarURL   string `json:"avatar_url,omitempty"`
}

const (
	defaultUserLimit = 10
	maxUserLimit     = 100
)

// SearchUsers searches the user directory for userID (client-server-api
// "User directory": local users who share a room with the searcher or are
// in public rooms, or every local user when so configured).
func (s *Service) SearchUsers(ctx context.Context, userID string, req UserDirectoryRequest) (*UserDirectoryResponse, error) {
	if req.SearchTerm == nil {
		return nil, spec.MissingParam("search_term is required")
	}
	limit := defaultUserLimit
	if req.Limit != nil {
		if *req.Limit < 0 {
			return nil, spec.InvalidParam("limit must not be negative")
		}
		limit = min(*req.Limit, maxUserLimit)
	}
	resp := &UserDirectoryResponse{Results: []DirectoryUser{}}
	if limit == 0 {
		return resp, nil
	}
	users, err := s.Rooms.Store().SearchUserDirectory(ctx, userID, *req.SearchTerm, s.SearchAllUsers, limit+1)
	if err != nil {
		return nil, err
	}
	if len(users) > limit {
		users, resp.Limited = users[:limit], true
	}
	for _, u := range users {
		resp.Results = append(resp.Results, DirectoryUser{UserID: u.UserID, DisplayName: u.DisplayName, AvatarURL: u.AvatarURL})
	}
	return resp, nil
}
