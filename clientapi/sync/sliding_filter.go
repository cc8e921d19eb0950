package sync

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"

	"github.com/kabarchat/kabar/models/store"
)

// List filters (MSC4186 "Filters", as MSC3575 defines them): every
// present field must hold (AND); an absent one does not filter.

// matches applies a list's filters to a room.
func (sb *slidingBuild) matches(ctx context.Context, id string, f *ListFilters) (bool, error) {
	if f == nil {
		return true, nil
	}
	info := sb.st.rooms[id]
	if f.IsInvite != nil && (info.membership == "invite") != *f.IsInvite {
		return false, nil
	}
	if f.IsDM != nil && sb.st.dm[id] != *f.IsDM {
		return false, nil
	}
	if ok, err := sb.stateFlag(ctx, id, "m.room.encryption", f.IsEncrypted, &info.encrypted, &info.encKnown); !ok || err != nil {
		return false, err
	}
	if ok, err := sb.stateFlag(ctx, id, "m.room.tombstone", f.IsTombstoned, &info.tombstoned, &info.tombKnown); !ok || err != nil {
		return false, err
	}
	if ok, err := sb.matchesTags(ctx, id, f); !ok || err != nil {
		return false, err
	}
	if ok, err := sb.inSpaces(ctx, id, f.Spaces); !ok || err != nil {
		return false, err
	}
	if f.RoomTypes == nil && f.NotRoomTypes == nil {
		return true, nil
	}
	if !info.typeKnown {
		typ, err := sb.roomType(ctx, id)
		if err != nil {
			return false, err
		}
		info.roomType, info.typeKnown = typ, true
	}
	if f.RoomTypes != nil && !hasRoomType(f.RoomTypes, info.roomType) {
		return false, nil
	}
	return !hasRoomType(f.NotRoomTypes, info.roomType), nil
}

// stateFlag applies a filter on whether the room's current state has an
// event of typ with the empty state key (is_encrypted, is_tombstoned):
// true when want is absent or matches. The answer is kept in *has once
// *known is set.
func (sb *slidingBuild) stateFlag(ctx context.Context, id, typ string, want, has, known *bool) (bool, error) {
	if want == nil {
		return true, nil
	}
	if !*known {
		_, err := sb.s.st.CurrentStateRow(ctx, id, typ, "")
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
		*has, *known = err == nil, true
	}
	return *has == *want, nil
}

// matchesTags applies tags (the room has at least one of them) and
// not_tags (it has none of them, which wins over tags), read from the
// user's m.tag room account data (client-server-api "Room Tagging").
func (sb *slidingBuild) matchesTags(ctx context.Context, id string, f *ListFilters) (bool, error) {
	if f.Tags == nil && f.NotTags == nil {
		return true, nil
	}
	if err := sb.loadTags(ctx); err != nil {
		return false, err
	}
	tags := sb.st.tags[id]
	if slices.ContainsFunc(f.NotTags, func(t string) bool { return tags[t] }) {
		return false, nil
	}
	return f.Tags == nil || slices.ContainsFunc(f.Tags, func(t string) bool { return tags[t] }), nil
}

// loadTags brings the connection's room tags up to the account data
// position of now: all of them the first time a list filters on tags,
// then only the m.tag changed since. The map is copied before a change:
// older positions of the connection share it.
func (sb *slidingBuild) loadTags(ctx context.Context) error {
	if sb.tagsLoaded {
		return nil
	}
	from := sb.old.token[StreamAccountData]
	if sb.st.tags == nil {
		from = 0
	}
	sb.tagsLoaded = true
	if sb.st.tags != nil && from >= sb.now[StreamAccountData] {
		return nil
	}
	rows, err := sb.s.st.AccountDataSince(ctx, sb.req.UserID, from, sb.now[StreamAccountData])
	if err != nil {
		return err
	}
	tags := maps.Clone(sb.st.tags)
	if tags == nil {
		tags = map[string]map[string]bool{}
	}
	for _, r := range rows {
		if r.RoomID == "" || r.Type != "m.tag" {
			continue
		}
		var content struct {
			Tags map[string]json.RawMessage `json:"tags"`
		}
		json.Unmarshal([]byte(r.Content), &content) // a malformed m.tag tags nothing
		delete(tags, r.RoomID)
		if len(content.Tags) > 0 {
			tags[r.RoomID] = map[string]bool{}
			for t := range content.Tags {
				tags[r.RoomID][t] = true
			}
		}
	}
	sb.st.tags = tags
	return nil
}

// inSpaces applies spaces: the room is named by a valid m.space.child
// (one with a via list) of one of the given spaces the user is joined to.
// Subspaces are not followed and other spaces are ignored (MSC3575).
func (sb *slidingBuild) inSpaces(ctx context.Context, id string, spaces []string) (bool, error) {
	if spaces == nil {
		return true, nil
	}
	for _, space := range spaces {
		children, err := sb.spaceChildren(ctx, space)
		if err != nil {
			return false, err
		}
		if children[id] {
			return true, nil
		}
	}
	return false, nil
}

// spaceChildren are the children of a space the user is joined to (none
// of any other room), read once per response.
func (sb *slidingBuild) spaceChildren(ctx context.Context, space string) (map[string]bool, error) {
	if c, ok := sb.children[space]; ok {
		return c, nil
	}
	if sb.children == nil {
		sb.children = map[string]map[string]bool{}
	}
	children := map[string]bool{}
	sb.children[space] = children
	if info := sb.st.rooms[space]; info == nil || info.membership != "join" {
		return children, nil
	}
	rows, err := sb.s.st.CurrentStateRows(ctx, space, "m.space.child")
	if err != nil {
		return nil, err
	}
	nids := make([]int64, 0, len(rows))
	for _, r := range rows {
		nids = append(nids, r.EventNID)
	}
	evs, err := sb.s.st.EventsByNID(ctx, nids)
	if err != nil {
		return nil, err
	}
	for _, ev := range evs {
		var child struct {
			StateKey string `json:"state_key"`
			Content  struct {
				Via []string `json:"via"`
			} `json:"content"`
		}
		json.Unmarshal([]byte(ev.JSON), &child) // stored events are valid JSON
		// client-server-api "m.space.child": a child without via is not
		// a child (that is how one is removed).
		if len(child.Content.Via) > 0 {
			children[child.StateKey] = true
		}
	}
	return children, nil
}

// roomType is the type in the room's m.room.create content (nil: none,
// or a room known only from an invite).
func (sb *slidingBuild) roomType(ctx context.Context, id string) (*string, error) {
	cs, err := sb.s.st.CurrentStateRow(ctx, id, "m.room.create", "")
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ev, err := sb.s.st.EventByID(ctx, cs.EventID)
	if err != nil {
		return nil, err
	}
	var create struct {
		Content struct {
			Type *string `json:"type"`
		} `json:"content"`
	}
	json.Unmarshal([]byte(ev.JSON), &create) // stored events are valid JSON
	return create.Content.Type, nil
}

func hasRoomType(types []*string, t *string) bool {
	return slices.ContainsFunc(types, func(x *string) bool {
		return (x == nil && t == nil) || (x != nil && t != nil && *x == *t)
	})
}
