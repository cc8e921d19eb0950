package sync

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	"github.com/kabarchat/kabar/models/spec"
)

// extensions fills the enabled extensions from the same sources as the
// classic /sync sections.
func (sb *slidingBuild) extensions(ctx context.Context) error {
	ext := sb.req.Body.Extensions
	if ext.ToDevice != nil && ext.ToDevice.on() {
		if err := sb.toDevice(ctx, ext.ToDevice); err != nil {
			return err
		}
	}
	if ext.E2EE.on() {
		if err := sb.e2ee(ctx); err != nil {
			return err
		}
	}
	if ext.AccountData != nil && ext.AccountData.on() {
		if err := sb.accountData(ctx, sb.relevant(ext.AccountData)); err != nil {
			return err
		}
	}
	if ext.Receipts != nil && ext.Receipts.on() {
		if err := sb.receipts(ctx, sb.relevant(ext.Receipts)); err != nil {
			return err
		}
	}
	if ext.Typing != nil && ext.Typing.on() {
		sb.typing(sb.relevant(ext.Typing))
	}
	return nil
}

func (sb *slidingBuild) source(id StreamID) ExtensionSource {
	for _, src := range sb.s.opts.Streams.Extensions {
		if src.Stream() == id {
			return src
		}
	}
	return nil
}

// Bounds of a to-device batch (MSC3885 "limit"): Synapse's default, and a
// cap so one response stays small.
const (
	defaultToDeviceLimit = 100
	maxToDeviceLimit     = 1000
)

// toDevice delivers at most limit of the device's to-device messages after
// since; asking with since acknowledges (deletes) those up to it (MSC3885).
func (sb *slidingBuild) toDevice(ctx context.Context, req *ToDeviceExtRequest) error {
	src := sb.source(StreamToDevice)
	if src == nil {
		return nil
	}
	upto := sb.now[StreamToDevice]
	var since int64
	if req.Since != "" {
		var err error
		since, err = strconv.ParseInt(req.Since, 10, 64)
		if err != nil || since < 0 || since > upto {
			return spec.InvalidParam("extensions.to_device.since is not a position of this server")
		}
	}
	limit := req.Limit
	if limit == 0 {
		limit = defaultToDeviceLimit
	}
	var out Extensions
	q := ExtensionQuery{UserID: sb.req.UserID, DeviceID: sb.req.DeviceID, Since: since, Upto: upto, Initial: since == 0,
		Limit: min(limit, maxToDeviceLimit)}
	if err := src.Fill(ctx, q, &out); err != nil {
		return err
	}
	// A batch cut short ends at its last message: the rest follows on the
	// next request, which acknowledges this batch with since.
	next := upto
	if out.ToDeviceNext > 0 {
		next = out.ToDeviceNext
	}
	sb.resp.Extensions.ToDevice = &ToDeviceExt{NextBatch: strconv.FormatInt(next, 10), Events: nonNilRaw(out.ToDevice)}
	sb.changed = sb.changed || len(out.ToDevice) > 0
	return nil
}

// e2ee reports device list changes since the connection's position and
// the device's key counts (MSC3884).
func (sb *slidingBuild) e2ee(ctx context.Context) error {
	src := sb.source(StreamDeviceLists)
	if src == nil {
		return nil
	}
	var out Extensions
	q := ExtensionQuery{UserID: sb.req.UserID, DeviceID: sb.req.DeviceID, Since: sb.old.token[StreamDeviceLists],
		Upto: sb.now[StreamDeviceLists], Initial: sb.initial}
	if err := src.Fill(ctx, q, &out); err != nil {
		return err
	}
	e := &E2EEExt{DeviceOneTimeKeysCount: out.OneTimeKeysCount, DeviceUnusedFallbackKeyTypes: out.UnusedFallbackKeyTypes}
	if e.DeviceOneTimeKeysCount == nil {
		e.DeviceOneTimeKeysCount = map[string]int{}
	}
	if e.DeviceUnusedFallbackKeyTypes == nil {
		e.DeviceUnusedFallbackKeyTypes = []string{}
	}
	if len(out.DeviceListsChanged)+len(out.DeviceListsLeft) > 0 {
		e.DeviceLists = &DeviceLists{Changed: out.DeviceListsChanged, Left: out.DeviceListsLeft}
		sb.changed = true
	}
	sb.resp.Extensions.E2EE = e
	return nil
}

// relevant are the rooms a per-room extension covers: those of the named
// lists' windows and the named subscriptions, "*" (the default) naming
// every one (MSC3959, MSC3960, MSC3961).
func (sb *slidingBuild) relevant(req *RoomsExtRequest) map[string]bool {
	out := map[string]bool{}
	lists := req.Lists
	if lists == nil {
		lists = []string{"*"}
	}
	for name, rooms := range sb.listRooms {
		if slices.Contains(lists, "*") || slices.Contains(lists, name) {
			for _, id := range rooms {
				out[id] = true
			}
		}
	}
	rooms := req.Rooms
	if rooms == nil {
		rooms = []string{"*"}
	}
	for id := range sb.req.Body.RoomSubscriptions {
		if _, ok := sb.window[id]; ok && (slices.Contains(rooms, "*") || slices.Contains(rooms, id)) {
			out[id] = true
		}
	}
	return out
}

// roomInitial reports a room sent afresh in this response: its extension
// data starts from the beginning, not the connection's position.
func (sb *slidingBuild) roomInitial(id string) bool {
	r := sb.resp.Rooms[id]
	return r != nil && r.Initial
}

// accountData sends the global account data and that of the relevant
// rooms changed since the connection's position (all of it to a new
// connection, and a room's all when the room is sent afresh).
func (sb *slidingBuild) accountData(ctx context.Context, rooms map[string]bool) error {
	since := sb.old.token[StreamAccountData]
	from := since
	for id := range rooms {
		if sb.roomInitial(id) {
			from = 0
		}
	}
	ad := &AccountDataExt{}
	if from < sb.now[StreamAccountData] {
		rows, err := sb.s.st.AccountDataSince(ctx, sb.req.UserID, from, sb.now[StreamAccountData])
		if err != nil {
			return err
		}
		for _, r := range rows {
			switch {
			case r.RoomID == "" && r.StreamPos > since:
				ad.Global = append(ad.Global, accountEvent(r.Type, r.Content))
			case r.RoomID != "" && rooms[r.RoomID] && (r.StreamPos > since || sb.roomInitial(r.RoomID)):
				if ad.Rooms == nil {
					ad.Rooms = map[string][]json.RawMessage{}
				}
				ad.Rooms[r.RoomID] = append(ad.Rooms[r.RoomID], accountEvent(r.Type, r.Content))
			}
		}
	}
	if err := sb.defaultPushRules(ctx, ad); err != nil {
		return err
	}
	sb.changed = sb.changed || len(ad.Global)+len(ad.Rooms) > 0
	sb.resp.Extensions.AccountData = ad
	return nil
}

// defaultPushRules gives a new connection m.push_rules when the user has
// none stored, as an initial /sync does.
func (sb *slidingBuild) defaultPushRules(ctx context.Context, ad *AccountDataExt) error {
	u := sb.s.opts.Unread
	if u == nil || !sb.initial {
		return nil
	}
	b := sb.builder(0)
	b.resp.AccountData = &RawEvents{Events: ad.Global}
	b.initial = true
	if err := b.defaultPushRules(ctx); err != nil {
		return err
	}
	ad.Global = b.resp.AccountData.Events
	return nil
}

// receipts sends the m.receipt of the relevant rooms whose receipts
// changed since the connection's position (every receipt of a room sent
// afresh).
func (sb *slidingBuild) receipts(ctx context.Context, rooms map[string]bool) error {
	ext := &RoomEventsExt{Rooms: map[string]json.RawMessage{}}
	changed := map[string]bool{}
	if from, to := sb.old.token[StreamReceipts], sb.now[StreamReceipts]; from < to && !sb.initial {
		ids, err := sb.s.st.ReceiptRooms(ctx, sb.req.UserID, from, to)
		if err != nil {
			return err
		}
		for _, id := range ids {
			changed[id] = true
		}
	}
	for _, id := range slices.Sorted(maps.Keys(rooms)) {
		if sb.st.rooms[id].membership != "join" {
			continue
		}
		b := sb.builder(0)
		switch {
		case sb.initial || sb.roomInitial(id):
			b.since[StreamReceipts] = 0
		case !changed[id]:
			continue
		}
		ev, err := b.receiptEvent(ctx, id)
		if err != nil {
			return err
		}
		if ev != nil {
			ext.Rooms[id] = ev
		}
	}
	sb.changed = sb.changed || len(ext.Rooms) > 0
	sb.resp.Extensions.Receipts = ext
	return nil
}

// typing sends the m.typing of the relevant rooms whose typing set
// changed since the connection's position (the current set of a room sent
// afresh).
func (sb *slidingBuild) typing(rooms map[string]bool) {
	ext := &RoomEventsExt{Rooms: map[string]json.RawMessage{}}
	t := sb.s.opts.Streams.Typing
	for id := range rooms {
		if t == nil || sb.st.rooms[id].membership != "join" {
			continue
		}
		since := sb.old.token[StreamTyping]
		if sb.initial || sb.roomInitial(id) {
			since = -1
		}
		if users, ok := t.Since(id, since); ok {
			if users == nil {
				users = []string{}
			}
			ext.Rooms[id], _ = json.Marshal(map[string]any{"type": "m.typing", "content": map[string]any{"user_ids": users}})
		}
	}
	sb.changed = sb.changed || len(ext.Rooms) > 0
	sb.resp.Extensions.Typing = ext
}

func nonNilRaw(evs []json.RawMessage) []json.RawMessage {
	if evs == nil {
		return []json.RawMessage{}
	}
	return evs
}
