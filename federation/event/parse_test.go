package event

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/federation/canonicaljson"
	"github.com/kabarchat/kabar/models/spec"
)

// mutate decodes ev's JSON, applies change and re-encodes (no re-signing:
// Parse does not check signatures).
func mutate(t *testing.T, ev *Event, change func(m map[string]any)) []byte {
	t.Helper()
	tree, err := canonicaljson.DecodeCompat(ev.JSON())
	if err != nil {
		t.Fatal(err)
	}
	m := tree.(map[string]any)
	change(m)
	b, err := canonicaljson.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseErrors(t *testing.T) {
	v10, v1, v12 := LookupRoomVersion("10"), LookupRoomVersion("1"), LookupRoomVersion("12")
	_, msg10 := buildRoom(t, v10)
	_, msg12 := buildRoom(t, v12)
	_, msg1 := buildRoom(t, v1)
	long := strings.Repeat("a", 256)
	cases := []struct {
		name   string
		rv     *RoomVersion
		base   *Event
		change func(m map[string]any)
		want   error
	}{
		{"missing type", v10, msg10, func(m map[string]any) { delete(m, "type") }, ErrMalformed},
		{"missing room_id", v10, msg10, func(m map[string]any) { delete(m, "room_id") }, ErrMalformed},
		{"v12 message without room_id", v12, msg12, func(m map[string]any) { delete(m, "room_id") }, ErrMalformed},
		{"missing depth", v10, msg10, func(m map[string]any) { delete(m, "depth") }, ErrMalformed},
		{"missing hashes", v10, msg10, func(m map[string]any) { delete(m, "hashes") }, ErrMalformed},
		{"missing signatures", v10, msg10, func(m map[string]any) { delete(m, "signatures") }, ErrMalformed},
		{"missing prev_events", v10, msg10, func(m map[string]any) { delete(m, "prev_events") }, ErrMalformed},
		{"sender not a string", v10, msg10, func(m map[string]any) { m["sender"] = int64(1) }, ErrMalformed},
		{"sender not a user ID", v10, msg10, func(m map[string]any) { m["sender"] = "a:domain" }, ErrMalformed},
		{"state_key null", v10, msg10, func(m map[string]any) { m["state_key"] = nil }, ErrMalformed},
		{"content an array", v10, msg10, func(m map[string]any) { m["content"] = []any{} }, ErrMalformed},
		{"signature not a string", v10, msg10, func(m map[string]any) {
			m["signatures"] = map[string]any{"domain": map[string]any{"ed25519:1": int64(1)}}
		}, ErrMalformed},
		{"pairs in v10", v10, msg10, func(m map[string]any) { m["prev_events"] = []any{[]any{"$a:b", map[string]any{}}} }, ErrMalformed},
		{"bad event ID in auth_events", v10, msg10, func(m map[string]any) { m["auth_events"] = []any{"nope"} }, ErrMalformed},
		{"plain IDs in v1", v1, msg1, func(m map[string]any) { m["prev_events"] = []any{"$a:b"} }, ErrMalformed},
		{"v1 missing event_id", v1, msg1, func(m map[string]any) { delete(m, "event_id") }, ErrMalformed},
		{"v1 event_id without domain", v1, msg1, func(m map[string]any) { m["event_id"] = "$abc" }, ErrMalformed},
		{"type too long", v10, msg10, func(m map[string]any) { m["type"] = long }, ErrTooLarge},
		{"state_key too long", v10, msg10, func(m map[string]any) { m["state_key"] = long }, ErrTooLarge},
		{"room_id too long", v10, msg10, func(m map[string]any) { m["room_id"] = "!" + long }, ErrTooLarge},
		{"sender too long", v10, msg10, func(m map[string]any) { m["sender"] = "@" + long + ":domain" }, ErrMalformed},
		{"v1 event_id too long", v1, msg1, func(m map[string]any) { m["event_id"] = "$" + long + ":d" }, ErrTooLarge},
		{"event too large", v10, msg10, func(m map[string]any) {
			m["content"] = map[string]any{"body": strings.Repeat("x", MaxEventSize)}
		}, ErrTooLarge},
	}
	for _, tc := range cases {
		_, err := Parse(tc.rv, mutate(t, tc.base, tc.change))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestParseJSONStrictness(t *testing.T) {
	_, msg := buildRoom(t, LookupRoomVersion("10"))
	js := string(msg.JSON())
	bigTS := strings.Replace(js, `"origin_server_ts":2000`, `"origin_server_ts":9007199254740993`, 1)
	cases := []struct {
		name, data, version string
		want                error
	}{
		{"duplicate key", strings.Replace(js, `{`, `{"type":"x",`, 1), "10", ErrMalformed},
		{"not an object", `[]`, "10", ErrMalformed},
		{"float", strings.Replace(js, `"depth":2`, `"depth":2.5`, 1), "10", ErrMalformed},
		{"big integer v10", bigTS, "10", ErrMalformed},
		{"big integer v5 allowed", bigTS, "5", nil},
		{"whitespace allowed", strings.Replace(js, `,`, ` ,`+"\n", -1), "10", nil},
		{"nil version", js, "", ErrUnknownVersion},
	}
	for _, tc := range cases {
		_, err := Parse(LookupRoomVersion(tc.version), []byte(tc.data))
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestStrayEventID: formats 2 and 3 ignore a sent event_id; format 1 needs it.
func TestStrayEventID(t *testing.T) {
	rv := LookupRoomVersion("4")
	_, msg := buildRoom(t, rv)
	withID := mutate(t, msg, func(m map[string]any) { m["event_id"] = "$forged" })
	ev, err := Parse(rv, withID)
	if err != nil || ev.EventID() != msg.EventID() || string(ev.JSON()) != string(msg.JSON()) {
		t.Errorf("stray event_id: %v %s", err, ev.JSON())
	}
}

func TestMatrixError(t *testing.T) {
	cases := []struct {
		err    error
		status int
		code   spec.Errcode
	}{
		{ErrTooLarge, http.StatusRequestEntityTooLarge, spec.ErrTooLarge},
		{ErrMalformed, http.StatusBadRequest, spec.ErrBadJSON},
		{ErrSignature, http.StatusForbidden, spec.ErrForbidden},
		{errors.New("x"), http.StatusInternalServerError, spec.ErrUnknown},
	}
	for _, tc := range cases {
		if e := MatrixError(tc.err); e.Status != tc.status || e.Code != tc.code {
			t.Errorf("%v -> %v", tc.err, e)
		}
	}
}

func TestRequiredSigners(t *testing.T) {
	key := testKey(t)
	cases := []struct {
		version, membership string
		extra               map[string]any
		want                []string
	}{
		{"10", "join", nil, []string{"domain"}},
		{"1", "join", nil, []string{"domain"}}, // event ID server = sender server
		{"7", "join", map[string]any{"join_authorised_via_users_server": "@b:other"}, []string{"domain"}},
		{"8", "join", map[string]any{"join_authorised_via_users_server": "@b:other"}, []string{"domain", "other"}},
		{"12", "join", map[string]any{"join_authorised_via_users_server": "@b:domain"}, []string{"domain"}},
		{"12", "invite", map[string]any{"join_authorised_via_users_server": "@b:other"}, []string{"domain"}},
		{"10", "invite", map[string]any{"third_party_invite": map[string]any{"signed": map[string]any{}}}, nil},
	}
	for _, tc := range cases {
		rv := LookupRoomVersion(tc.version)
		content := map[string]any{"membership": tc.membership}
		for k, v := range tc.extra {
			content[k] = v
		}
		b := Builder{RoomID: "!r:domain", Sender: "@a:domain", Type: "m.room.member", StateKey: strPtr("@a:domain"),
			Content: content, Depth: 1, OriginServerTS: 1, RefHashes: map[string][32]byte{}}
		ev, err := b.Build(rv, "domain", "ed25519:1", key)
		if err != nil {
			t.Fatal(err)
		}
		if got := ev.RequiredSigners(); !slices.Equal(got, tc.want) {
			t.Errorf("v%s %s %v: got %v want %v", tc.version, tc.membership, tc.extra, got, tc.want)
		}
	}
	// v1: a remote event ID's server must sign as well.
	_, msg := buildRoom(t, LookupRoomVersion("1"))
	remote, err := Parse(msg.Version(), mutate(t, msg, func(m map[string]any) { m["event_id"] = "$x:elsewhere" }))
	if err != nil {
		t.Fatal(err)
	}
	if got := remote.RequiredSigners(); !slices.Equal(got, []string{"domain", "elsewhere"}) {
		t.Errorf("v1 remote event ID: %v", got)
	}
}

// TestKeyValidity: from v5 the key must be valid at origin_server_ts.
func TestKeyValidity(t *testing.T) {
	pub := testKey(t).Public().(ed25519.PublicKey)
	for _, tc := range []struct {
		version string
		wantAt  int64
	}{{"4", 0}, {"5", 2000}} {
		_, msg := buildRoom(t, LookupRoomVersion(tc.version))
		var gotAt int64 = -1
		err := msg.VerifySignatures(func(server, keyID string, validAt int64) ed25519.PublicKey {
			gotAt = validAt
			return pub
		})
		if err != nil || gotAt != tc.wantAt {
			t.Errorf("v%s: validAt %d want %d (%v)", tc.version, gotAt, tc.wantAt, err)
		}
	}
}

// FuzzParsePDU: Parse never panics; anything it accepts re-serializes
// canonically, parses again to the same event and can be redacted.
func FuzzParsePDU(f *testing.F) {
	for _, id := range StableRoomVersions() {
		_, msg := buildRoom(f, LookupRoomVersion(id))
		f.Add(uint8(len(id)+int(id[len(id)-1])), msg.JSON())
	}
	f.Add(uint8(0), []byte(`{"type":"m.room.create","sender":"@a:b","content":{},"depth":0,"origin_server_ts":0,"hashes":{"sha256":""},"signatures":{},"prev_events":[],"auth_events":[]}`))
	versions := StableRoomVersions()
	f.Fuzz(func(t *testing.T, vi uint8, data []byte) {
		rv := LookupRoomVersion(versions[int(vi)%len(versions)])
		ev, err := Parse(rv, data)
		if err != nil {
			return
		}
		again, err := Parse(rv, ev.JSON())
		if err != nil || again.EventID() != ev.EventID() || string(again.JSON()) != string(ev.JSON()) {
			t.Fatalf("re-parse of %s: %v", ev.JSON(), err)
		}
		if c, err := canonicaljson.Canonicalize(ev.JSON()); err != nil && rv.StrictCanonicalJSON || err == nil && string(c) != string(ev.JSON()) {
			t.Fatalf("JSON() not canonical: %s", ev.JSON())
		}
		if !json.Valid(ev.Content()) {
			t.Fatalf("content not JSON: %s", ev.Content())
		}
		if _, err := ev.Redact(); err != nil {
			t.Fatalf("redact accepted event: %v", err)
		}
	})
}
