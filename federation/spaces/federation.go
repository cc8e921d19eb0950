package spaces

import (
	"context"

	"github.com/kabarchat/kabar/models/spec"
)

// maxFedChildren bounds the children one federation answer describes.
const maxFedChildren = 200

// Answer is GET /_matrix/federation/v1/hierarchy/{roomId} (server-server-api
// "Spaces"): the room and its direct children the requesting server could
// peek or join, not paginated; the children it could not are listed as
// inaccessible_children, the ones we do not hold are left out. An unknown
// room, or one the server cannot see, is 404 M_NOT_FOUND.
func (s *Service) Answer(ctx context.Context, origin spec.ServerName, roomID spec.RoomID, suggestedOnly bool) (any, error) {
	sum, err := s.local(ctx, roomID)
	if isNotFound(err) {
		return nil, spec.NotFound("unknown room %s", roomID)
	}
	if err != nil {
		return nil, err
	}
	if ok, err := s.visibleToServer(ctx, origin, sum); err != nil {
		return nil, err
	} else if !ok {
		return nil, spec.NotFound("room %s is not accessible to %s", roomID, origin)
	}
	ans := fedAnswer{Room: sum, Children: []Summary{}, InaccessibleChildren: []string{}}
	for _, c := range children(sum.ChildrenState, suggestedOnly) {
		if len(ans.Children)+len(ans.InaccessibleChildren) >= maxFedChildren {
			break
		}
		childID, err := spec.ParseRoomID(c.roomID)
		if err != nil {
			continue
		}
		child, err := s.local(ctx, childID)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		ok, err := s.visibleToServer(ctx, origin, child)
		if err != nil {
			return nil, err
		}
		if ok {
			ans.Children = append(ans.Children, child)
		} else {
			ans.InaccessibleChildren = append(ans.InaccessibleChildren, child.RoomID)
		}
	}
	return ans, nil
}
