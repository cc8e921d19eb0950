package main

import (
	"regexp"
	"strings"
)

// The hostile inputs hardening_test.go sends to every route. DESIGN.md
// style rule 3: bad input gets a clear Matrix error, never a 500, and
// internal error text never reaches a client.

// publicRoutes are the routes a client may call without an access token.
// Client-server routes are listed because the spec's OpenAPI gives them no
// security requirement or an optional one ("security: [{}, ...]"); the
// others are not client API at all. Keys use the v3 prefix: an r0 route is
// looked up under its v3 twin.
var publicRoutes = map[string]bool{
	"GET /.well-known/matrix/client":                                      true,
	"GET /.well-known/matrix/server":                                      true,
	"GET /_matrix/client/versions":                                        true,
	"GET /_matrix/client/v3/login":                                        true,
	"POST /_matrix/client/v3/login":                                       true,
	"POST /_matrix/client/v3/register":                                    true,
	"GET /_matrix/client/v3/register/available":                           true,
	"POST /_matrix/client/v3/refresh":                                     true,
	"GET /_matrix/client/v1/register/m.login.registration_token/validity": true,
	// Optional auth in the spec (email-validated UIA needs no token).
	"POST /_matrix/client/v3/account/deactivate":         true,
	"POST /_matrix/client/v3/account/password":           true,
	"GET /_matrix/client/v3/profile/:userId":             true,
	"GET /_matrix/client/v3/profile/:userId/displayname": true,
	"GET /_matrix/client/v3/profile/:userId/avatar_url":  true,
	"GET /_matrix/client/v3/profile/:userId/:keyName":    true,
	"GET /_matrix/client/v3/publicRooms":                 true,
	"GET /_matrix/client/v3/directory/room/:roomAlias":   true,
	"GET /_matrix/client/v3/directory/list/room/:roomId": true,
	"GET /_matrix/client/v3/login/sso/redirect":          true,
	"GET /_matrix/client/v3/login/sso/redirect/:idpId":   true,
	"GET /_matrix/client/v1/auth_metadata":               true,
	// Deprecated unauthenticated media (content-repo.yaml, "security" unset).
	"GET /_matrix/media/v3/download/:serverName/:mediaId":           true,
	"GET /_matrix/media/v3/download/:serverName/:mediaId/:fileName": true,
	"GET /_matrix/media/v3/thumbnail/:serverName/:mediaId":          true,
	// NOTSPEC: Synapse's shared-secret registration is authenticated by
	// its HMAC, not a token; health and metrics are operational.
	"GET /_synapse/admin/v1/register":  true,
	"POST /_synapse/admin/v1/register": true,
	"GET /health":                      true,
	"GET /metrics":                     true,
	// Federation: only the discovery and key endpoints skip X-Matrix.
	"GET /_matrix/federation/v1/version":         true,
	"GET /_matrix/key/v2/server":                 true,
	"GET /_matrix/key/v2/query/:serverName":      true,
	"POST /_matrix/key/v2/query":                 true,
	"GET /_matrix/federation/v1/openid/userinfo": true,
}

// remoteRoutePattern matches routes that may have to reach another server
// (remote joins, invites, profiles, aliases, keys, media, previews): only
// they may answer 502/504, and then still with a clean Matrix error.
var remoteRoutePattern = regexp.MustCompile(`/join/|/join$|/knock/|/invite|/profile/|/directory/room/|/publicRooms|/keys/query|/keys/claim|/media/|/key/v2/query|/user_directory/`)

// leakPatterns find internal detail in an error message: network and DNS
// errors, database and driver text, Go type names, file paths, panics.
var leakPatterns = regexp.MustCompile(`(?i)dial tcp|lookup |no such host|connection refused|i/o timeout|` +
	`\bsql\b|sqlstate|gorm|sqlite|pq: |\bpgx\b|duplicate key|unique constraint|violates|syntax error at|` +
	`context canceled|context deadline|deadline exceeded|\*json\.|(?-i:\bjson: )|go value|go struct|` +
	`goroutine|panic|runtime error|nil pointer|index out of range|%!|\.go:\d+|` +
	`(^|[\s"'(=])/(tmp|home|work|root|var|usr|etc|proc)/`)

// long is a path or field value longer than any Matrix identifier (255).
var long = strings.Repeat("a", 300)

// garbageParams replace one path parameter at a time.
var garbageParams = []string{
	"\x00", "..", ".", long, "!", "@", "$", "#", "", "\xff", "a/b", "%", " ",
	"!" + long + ":kabar.test", "@" + long + ":kabar.test", "$" + long, "#" + long + ":kabar.test",
	"!abc:elsewhere.invalid", "@x:elsewhere.invalid", "#x:elsewhere.invalid", "elsewhere.invalid",
	"@x:kabar.test:1:2", "@UPPER:kabar.test",
}

// badAuthHeaders are Authorization headers that carry no valid token.
var badAuthHeaders = []string{
	"Bearer", "Bearer ", "Basic YWxpY2U6cGFzc3dvcmQ=", "Bearer syt_bogus", "Bearer \xff\xfe",
	"Bearer " + strings.Repeat("t", 8000), "Bearer a b c", "bearer " + long,
}

// nested returns n levels of JSON arrays inside an object.
func nested(n int) string {
	return `{"a":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
}

// hostileBodies are sent to every route that takes a body, with valid
// path parameters. nil means no body at all.
var hostileBodies = []struct {
	name string
	body []byte
}{
	{"none", nil},
	{"empty object", []byte(`{}`)},
	{"not json", []byte(`not json`)},
	{"truncated", []byte(`{"a":`)},
	{"array", []byte(`[]`)},
	{"string", []byte(`"str"`)},
	{"number", []byte(`42`)},
	{"null", []byte(`null`)},
	{"huge number", []byte(`{"limit":1e400,"timeout":99999999999999999999999,"a":-1e400}`)},
	{"deep nesting", []byte(nested(20000))},
	{"duplicate keys", []byte(`{"a":1,"a":2}`)},
	{"NUL escape", []byte(`{"a":"\u0000","user_id":"@a\u0000:kabar.test","body":"x\u0000"}`)},
	{"raw NUL", []byte("{\"a\":\"\x00\"}")},
	{"invalid UTF-8", []byte("{\"a\":\"\xff\xfe\",\"body\":\"\xc3\"}")},
	{"lone surrogate", []byte(`{"a":"\ud800"}`)},
	{"wrong field types", []byte(`{"user_id":1,"room_id":{},"event_id":[],"body":[],"msgtype":5,"name":[],` +
		`"topic":{},"reason":7,"type":1,"state_key":1,"content":"x","limit":"x","filter":3,"auth":"x",` +
		`"device_keys":"x","one_time_keys":[],"preset":1,"visibility":1,"invite":"x","displayname":1,` +
		`"avatar_url":1,"typing":"x","timeout":"x","new_version":1,"messages":"x","rooms":1,` +
		`"search_categories":1,"search_term":1,"identifier":1,"password":1,"server":1,"score":"x",` +
		`"m.fully_read":1,"m.read":[],"tags":1,"order":"x","fallback_keys":1,"master_key":"x","room_version":1,` +
		`"creation_content":"x","initial_state":{},"power_level_content_override":[],"is_direct":"x","ts":"x"}`)},
	{"bad IDs", []byte(`{"user_id":"@","room_id":"!","event_id":"$","invite":["@","!x"],"room_alias_name":"#:",` +
		`"new_version":"` + long + `","m.fully_read":"$","m.read":"x","device_keys":{"@":["\u0000"]},` +
		`"one_time_keys":{"":{}},"messages":{"@":{"":{}}},"user_ids":["!"],"room_version":"` + long + `",` +
		`"initial_state":[{"type":1}],"invite_3pid":[{}],"server_name":"` + long + `","via":["!"],` +
		`"displayname":"` + strings.Repeat("é", 2000) + `","avatar_url":"mxc://` + long + `"}`)},
	{"remote IDs", []byte(`{"user_id":"@x:elsewhere.invalid","device_keys":{"@x:elsewhere.invalid":[]},` +
		`"one_time_keys":{"@x:elsewhere.invalid":{"D":"signed_curve25519"}},"server":"elsewhere.invalid",` +
		`"invite":["@x:elsewhere.invalid"],"room_id":"!x:elsewhere.invalid"}`)},
	{"long IDs", []byte(`{"user_id":"@` + long + `:kabar.test","room_id":"!` + long + `:kabar.test",` +
		`"event_id":"$` + long + `","device_id":"` + long + `","room_alias_name":"` + long + `",` +
		`"type":"` + long + `","username":"` + long + `","invite":["@` + long + `:kabar.test"]}`)},
}

// hostileQueries are appended to the valid path of every route.
var hostileQueries = []string{
	"limit=-1", "limit=99999999999999999999999", "limit=abc", "limit=1e400",
	"from=%00&to=garbage&dir=x", "dir=b&from=s1_99999999999999999999", "from=" + long,
	"since=garbage&timeout=-5", "since=s1_-1_-1_-1_-1_-1_-1_-1", "filter=%7Bbad", "filter=%00", "filter=999999",
	"filter=%7B%22room%22%3A%7B%22timeline%22%3A%7B%22limit%22%3A%22x%22%7D%7D%7D",
	"server=elsewhere.invalid", "server_name=elsewhere.invalid&via=%21", "ts=abc&dir=f", "ts=-1&dir=b",
	"width=-1&height=abc&method=bogus", "width=99999999999&height=99999999999",
	"url=http%3A%2F%2F127.0.0.1%3A1%2F", "url=%00", "url=file%3A%2F%2F%2Fetc%2Fpasswd",
	"allow_remote=maybe&timeout_ms=-1", "user_id=%40x%3Aelsewhere.invalid",
	"set_presence=bogus&full_state=maybe", "include_all_networks=maybe&recurse=maybe",
	"next_batch=%00&order_by=bogus", "token=%00", "%zz=1", "from=%FF&filter=%FF", "since=%C3",
}
