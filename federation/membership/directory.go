package membership

import (
	"context"
	"net/url"

	"github.com/kabarchat/kabar/models/spec"
)

// ResolveAlias asks the alias's server for its room and resident servers
// (GET /_matrix/federation/v1/query/directory).
func (s *Service) ResolveAlias(ctx context.Context, alias spec.RoomAlias) (spec.RoomID, []spec.ServerName, error) {
	var resp struct {
		RoomID  string   `json:"room_id"`
		Servers []string `json:"servers"`
	}
	path := "/_matrix/federation/v1/query/directory?room_alias=" + url.QueryEscape(string(alias))
	if err := s.opts.Client.Do(ctx, alias.Server(), "GET", path, nil, &resp); err != nil {
		return "", nil, remoteErr(alias.Server(), err)
	}
	roomID, err := spec.ParseRoomID(resp.RoomID)
	if err != nil {
		e := spec.NewError(502, spec.ErrUnknown, "the alias's server answered a bad room ID")
		e.Cause = err
		return "", nil, e
	}
	var servers []spec.ServerName
	for _, raw := range resp.Servers {
		if sn, err := spec.ParseServerName(raw); err == nil {
			servers = append(servers, sn)
		}
	}
	return roomID, servers, nil
}
