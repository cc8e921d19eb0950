package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/federation/xmatrix"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// signedFedRequest sends a request to dest's federation listener signed as
// origin with key and returns the status and the raw answer. A body that is
// not JSON cannot be signed (the signature covers the parsed content): the
// request is signed as one without a body.
func signedFedRequest(t *testing.T, ca *testCA, key *keys.SigningKey, origin, dest, method, path string, body []byte) (int, []byte) {
	t.Helper()
	signed := body
	if !json.Valid(body) {
		signed = nil
	}
	auth, err := xmatrix.Sign(key, origin, dest, method, path, signed)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest(method, "https://"+dest+path, strings.NewReader(string(body)))
	req.Header.Set("Authorization", auth)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// signingPeer starts hs1 (on the first test database) and hs2 (on dbURL:
// the server under test) and returns hs1's signing key, with which a test
// sends hs2 requests signed as hs1 (signedFedRequest).
func signingPeer(t *testing.T, dbURL string) (*testCA, *fedServer, *fedServer, *keys.SigningKey) {
	t.Helper()
	ca := newTestCA(t)
	hs1 := startFedServer(t, ca, "127.0.0.2", storetest.URLs(t)[0].URL)
	hs2 := startFedServer(t, ca, "127.0.0.3", dbURL)
	key1, err := keys.LoadOrCreate(filepath.Join(hs1.srv.cfg.DataDir, "signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	return ca, hs1, hs2, key1
}

// inviteSpec describes one invite event hs1 sends hs2 in the table below.
type inviteSpec struct {
	version    string // the event's format
	room       string // room_id in the event
	sender     string
	invitee    string
	membership string
	unsigned   bool // hs1's signature removed
}

// TestFederationInviteBadInput: hs2's two invite endpoints, PUT /v2/invite
// and the deprecated PUT /v1/invite (server-server-api "Inviting to a
// room"), accept a good invite and refuse bad ones with the exact status
// and errcode, for event format 1 (room versions 1 and 2: the event ID is
// inside the event) and the hash-derived IDs of later versions.
func TestFederationInviteBadInput(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ca, hs1, hs2, key1 := signingPeer(t, db.URL)
			bob := hs2.register(t, "bob", "password-bob")
			bobID := "@bob:" + hs2.ServerName
			aliceID := "@alice:" + hs1.ServerName
			// Rooms hs2 hosts: one whose ACL denies hs1 (version 1, so both
			// endpoints reach the ACL check) and one of version 10.
			aclRoom := hs2.call(t, "POST", "/_matrix/client/v3/createRoom", bob, `{"room_version":"1"}`, 200)["room_id"].(string)
			hs2.call(t, "PUT", "/_matrix/client/v3/rooms/"+url.PathEscape(aclRoom)+"/state/m.room.server_acl/", bob,
				`{"allow":["*"],"deny":["127.0.0.2"],"allow_ip_literals":true}`, 200)
			v10Room := hs2.call(t, "POST", "/_matrix/client/v3/createRoom", bob, `{"room_version":"10"}`, 200)["room_id"].(string)

			n := 0
			build := func(s inviteSpec) *event.Event {
				n++
				rv := event.LookupRoomVersion(s.version)
				sk := s.invitee
				b := &event.Builder{RoomID: s.room, Sender: s.sender, Type: "m.room.member", StateKey: &sk,
					Content: map[string]any{"membership": s.membership}, Depth: int64(n)}
				ev, err := b.Build(rv, hs1.ServerName, key1.ID, key1.PrivateKey())
				if err != nil {
					t.Fatal(err)
				}
				return ev
			}
			good := func(version, api string) inviteSpec {
				return inviteSpec{version: version, room: "!elsewhere" + version + api + ":" + hs1.ServerName,
					sender: aliceID, invitee: bobID, membership: "invite"}
			}
			// pdu returns the event's JSON, without hs1's signature if asked.
			pdu := func(ev *event.Event, unsigned bool) json.RawMessage {
				if !unsigned {
					return ev.JSON()
				}
				var obj map[string]any
				json.Unmarshal(ev.JSON(), &obj)
				obj["signatures"] = map[string]any{}
				b, _ := json.Marshal(obj)
				return b
			}

			type tc struct {
				name      string
				spec      inviteSpec
				roomVer   string // v2's room_version; "" = the event's
				pathRoom  string // "" = the event's room
				pathEvent string // "" = the event's ID
				rawBody   string // sent as is when set
				status    int
				errcode   string
			}
			withRoom := func(s inviteSpec, room string) inviteSpec { s.room = room; return s }
			cases := func(v, api string) []tc {
				g := good(v, api)
				other := g
				other.room = "!other" + v + ":" + hs1.ServerName
				notInvite, foreign, unknownUser, stranger, unsigned := g, g, g, g, g
				notInvite.membership = "join"
				foreign.invitee = "@carol:" + hs1.ServerName
				unknownUser.invitee = "@nobody:" + hs2.ServerName
				stranger.sender = "@mallory:" + hs2.ServerName
				unsigned.unsigned = true
				return []tc{
					{name: "ok", spec: g, status: 200},
					{name: "wrong room in event", spec: g, pathRoom: other.room, status: 400, errcode: "M_INVALID_PARAM"},
					{name: "event ID mismatch", spec: g, pathEvent: build(other).EventID(), status: 400, errcode: "M_INVALID_PARAM"},
					{name: "not an invite", spec: notInvite, status: 400, errcode: "M_INVALID_PARAM"},
					{name: "invitee not ours", spec: foreign, status: 400, errcode: "M_INVALID_PARAM"},
					{name: "no such invitee", spec: unknownUser, status: 404, errcode: "M_NOT_FOUND"},
					{name: "sender not on origin", spec: stranger, status: 400, errcode: "M_INVALID_PARAM"},
					{name: "unsigned event", spec: unsigned, status: 400, errcode: "M_INVALID_PARAM"},
					{name: "ACL denied", spec: withRoom(good("1", api), aclRoom), status: 403, errcode: "M_FORBIDDEN"},
					// Not JSON: the X-Matrix signature cannot cover it, so the
					// request is refused before the handler.
					{name: "not JSON", spec: g, rawBody: `{"event":`, status: 401, errcode: "M_UNAUTHORIZED"},
					{name: "event not an object", spec: g, rawBody: `[]`, status: 400, errcode: "M_BAD_JSON"},
					{name: "wrong field types", spec: g, rawBody: "types", status: 400, errcode: "M_BAD_JSON"},
				}
			}
			check := func(t *testing.T, c tc, status int, body []byte) {
				t.Helper()
				var e struct {
					Errcode     string `json:"errcode"`
					RoomVersion string `json:"room_version"`
				}
				json.Unmarshal(body, &e)
				if status != c.status || (c.errcode != "" && e.Errcode != c.errcode) {
					t.Fatalf("%d %s, want %d %s", status, body, c.status, c.errcode)
				}
			}
			paths := func(c tc, ev *event.Event, api string) string {
				room, id := ev.RoomID(), ev.EventID()
				if c.pathRoom != "" {
					room = c.pathRoom
				}
				if c.pathEvent != "" {
					id = c.pathEvent
				}
				return "/_matrix/federation/" + api + "/invite/" + url.PathEscape(room) + "/" + url.PathEscape(id)
			}

			for _, v := range []string{"1", "10"} {
				t.Run("v2 endpoint/room version "+v, func(t *testing.T) {
					vcases := append(cases(v, "v2"),
						tc{name: "unknown room version", spec: good(v, "v2"), roomVer: "99", status: 400, errcode: "M_INCOMPATIBLE_ROOM_VERSION"})
					for _, c := range vcases {
						t.Run(c.name, func(t *testing.T) {
							ev := build(c.spec)
							rv := c.roomVer
							if rv == "" {
								rv = c.spec.version
							}
							body, _ := json.Marshal(map[string]any{"room_version": rv, "event": pdu(ev, c.spec.unsigned), "invite_room_state": []any{}})
							if c.rawBody != "" {
								body = []byte(c.rawBody)
								switch c.rawBody {
								case "[]":
									body = []byte(`{"room_version":"` + rv + `","event":[]}`)
								case "types":
									body = []byte(`{"room_version":1,"event":{}}`)
								}
							}
							status, resp := signedFedRequest(t, ca, key1, hs1.ServerName, hs2.ServerName, "PUT", paths(c, ev, "v2"), body)
							check(t, c, status, resp)
							if c.roomVer == "99" && !strings.Contains(string(resp), `"room_version":"99"`) {
								t.Errorf("no room_version in %s", resp)
							}
							if status == 200 {
								var out struct {
									Event json.RawMessage `json:"event"`
								}
								json.Unmarshal(resp, &out)
								assertCountersigned(t, out.Event, v, ev.EventID(), hs2.ServerName)
								waitMembership(t, hs2.testServer, ev.RoomID(), bobID, "invite")
							}
						})
					}
				})
			}

			t.Run("v1 endpoint", func(t *testing.T) {
				vcases := append(cases("1", "v1"),
					tc{name: "room of version 10", spec: withRoom(good("1", "v1"), v10Room), status: 400, errcode: "M_INCOMPATIBLE_ROOM_VERSION"})
				for _, c := range vcases {
					t.Run(c.name, func(t *testing.T) {
						ev := build(c.spec)
						// The stripped state rides in the event's unsigned.
						var obj map[string]any
						json.Unmarshal(pdu(ev, c.spec.unsigned), &obj)
						obj["unsigned"] = map[string]any{"invite_room_state": []any{map[string]any{
							"type": "m.room.name", "state_key": "", "sender": aliceID, "content": map[string]any{"name": "Old times"}}}}
						body, _ := json.Marshal(obj)
						if c.rawBody == "types" {
							obj["unsigned"] = map[string]any{"invite_room_state": "none"}
							body, _ = json.Marshal(obj)
						} else if c.rawBody != "" {
							body = []byte(c.rawBody)
						}
						status, resp := signedFedRequest(t, ca, key1, hs1.ServerName, hs2.ServerName, "PUT", paths(c, ev, "v1"), body)
						check(t, c, status, resp)
						if strings.HasPrefix(c.name, "room of version") && !strings.Contains(string(resp), `"room_version":"10"`) {
							t.Errorf("no room_version in %s", resp)
						}
						if status != 200 {
							return
						}
						var out []json.RawMessage
						var inner struct {
							Event json.RawMessage `json:"event"`
						}
						if json.Unmarshal(resp, &out) != nil || len(out) != 2 || string(out[0]) != "200" || json.Unmarshal(out[1], &inner) != nil {
							t.Fatalf("v1 answer is not [200, {\"event\": ...}]: %s", resp)
						}
						assertCountersigned(t, inner.Event, "1", ev.EventID(), hs2.ServerName)
						waitMembership(t, hs2.testServer, ev.RoomID(), bobID, "invite")
						inv := syncOnce(t, hs2.testServer, bob, "").Rooms.Invite[ev.RoomID()]
						found := false
						for _, e := range inv.InviteState.Events {
							found = found || (e.Type == "m.room.name" && e.Content["name"] == "Old times")
						}
						if !found {
							t.Errorf("invite_room_state from unsigned not shown: %+v", inv.InviteState.Events)
						}
					})
				}
			})
		})
	}
}

// assertCountersigned checks that raw is the invite with eventID, signed by
// server.
func assertCountersigned(t *testing.T, raw json.RawMessage, version, eventID, server string) {
	t.Helper()
	ev, err := event.Parse(event.LookupRoomVersion(version), raw)
	if err != nil {
		t.Fatalf("answer is not an event: %v: %s", err, raw)
	}
	if ev.EventID() != eventID || len(ev.Signatures()[server]) == 0 {
		t.Fatalf("answer %s: not the invite countersigned by %s", raw, server)
	}
}
