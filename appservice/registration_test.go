package appservice

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/models/spec"
)

const goodYAML = `id: "IRC Bridge"
url: "http://127.0.0.1:1234"
as_token: "as1"
hs_token: "hs1"
sender_localpart: "_irc_bot"
rate_limited: false
protocols: ["irc"]
de.sorunome.msc2409.push_ephemeral: true
namespaces:
  users:
    - exclusive: true
      regex: "@_irc_bridge_.*"
  aliases:
    - exclusive: false
      regex: "#_irc_bridge_.*"
  rooms: []
`

func TestParseRegistration(t *testing.T) {
	r, err := Parse([]byte(goodYAML), "example.org")
	if err != nil {
		t.Fatal(err)
	}
	if r.Sender != "@_irc_bot:example.org" || r.BaseURL() != "http://127.0.0.1:1234" || r.IsRateLimited() || len(r.Protocols) != 1 {
		t.Errorf("parsed %+v", r)
	}
	if strings.Contains(r.String(), "as1") || strings.Contains(r.String(), "hs1") {
		t.Errorf("String() leaks a token: %s", r)
	}
	reg := NewRegistry([]*Registration{r})
	for _, tc := range []struct {
		user      spec.UserID
		owns, exc bool
	}{
		{"@_irc_bridge_bob:example.org", true, true},
		{"@_irc_bot:example.org", true, true},
		{"@bob:example.org", false, false},
		{"@x_irc_bridge_bob:example.org", false, false}, // anchored at the start
	} {
		if got := r.OwnsUser(tc.user); got != tc.owns {
			t.Errorf("OwnsUser(%s) = %v", tc.user, got)
		}
		if got := reg.ExclusiveUser(tc.user) != nil; got != tc.exc {
			t.Errorf("ExclusiveUser(%s) = %v", tc.user, got)
		}
	}
	if !r.OwnsAlias("#_irc_bridge_x:example.org") || reg.ExclusiveAlias("#_irc_bridge_x:example.org") != nil {
		t.Error("a non-exclusive alias namespace is owned but not exclusive")
	}
	if reg.ByToken("as1") != r || reg.ByToken("as2") != nil || reg.ByToken("hs1") != nil || reg.ByID("IRC Bridge") != r {
		t.Error("token/id lookups")
	}
	var none *Registry
	if none.ByToken("as1") != nil || none.ExclusiveUser("@a:b") != nil {
		t.Error("a nil registry holds nothing")
	}
}

// TestParseRegistrationEphemeral: receive_ephemeral (the spec's key) and
// de.sorunome.msc2409.push_ephemeral (what bridges write, honoured as
// Synapse does) each turn ephemeral events on.
func TestParseRegistrationEphemeral(t *testing.T) {
	unstable := "de.sorunome.msc2409.push_ephemeral: true\n"
	for _, tc := range []struct {
		name, from, to string
		want           bool
	}{
		{"unstable key", "", "", true},
		{"stable key", unstable, "receive_ephemeral: true\n", true},
		{"both off", unstable, "receive_ephemeral: false\n", false},
		{"absent", unstable, "", false},
	} {
		r, err := Parse([]byte(strings.Replace(goodYAML, tc.from, tc.to, 1)), "example.org")
		if err != nil || r.Ephemeral() != tc.want {
			t.Errorf("%s: Ephemeral() = %v, want %v (err %v)", tc.name, r != nil && r.Ephemeral(), tc.want, err)
		}
	}
}

func TestParseRegistrationNullURL(t *testing.T) {
	r, err := Parse([]byte(strings.Replace(goodYAML, `url: "http://127.0.0.1:1234"`, "url: null", 1)), "example.org")
	if err != nil || r.BaseURL() != "" {
		t.Fatalf("url null: %v %+v", err, r)
	}
}

// TestParseRegistrationErrors: every mistake is named for the operator.
func TestParseRegistrationErrors(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"no id", `id: "IRC Bridge"`, ``, "id: must be set"},
		{"no as_token", `as_token: "as1"`, ``, "as_token: must be set"},
		{"no hs_token", `hs_token: "hs1"`, ``, "hs_token: must be set"},
		{"same tokens", `hs_token: "hs1"`, `hs_token: "as1"`, "must differ"},
		{"bad sender", `sender_localpart: "_irc_bot"`, `sender_localpart: "Bad Bot"`, "sender_localpart"},
		{"bad url", `url: "http://127.0.0.1:1234"`, `url: "ftp://x"`, "url"},
		{"bad regex", `regex: "@_irc_bridge_.*"`, `regex: "@_irc_(["`, "namespaces.users[0]: regex"},
		{"empty regex", `regex: "#_irc_bridge_.*"`, `regex: ""`, "namespaces.aliases[0]: regex: must be set"},
		{"not YAML", `namespaces:`, `namespaces: [`, "parse YAML"},
		{"ephemeral not a bool", `push_ephemeral: true`, `push_ephemeral: [1]`, "parse YAML"},
	} {
		_, err := Parse([]byte(strings.Replace(goodYAML, tc.from, tc.to, 1)), "example.org")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

func TestLoadRefusesDuplicates(t *testing.T) {
	dir := t.TempDir()
	write := func(name, yaml string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(yaml), 0o600)
		return p
	}
	a := write("a.yaml", goodYAML)
	sameID := write("b.yaml", strings.NewReplacer(`"as1"`, `"as2"`, `"hs1"`, `"hs2"`).Replace(goodYAML))
	sameToken := write("c.yaml", strings.NewReplacer(`"IRC Bridge"`, `"Other"`, `"hs1"`, `"hs3"`).Replace(goodYAML))
	if _, err := Load([]string{a, sameID}, "example.org"); err == nil || !strings.Contains(err.Error(), `share the id "IRC Bridge"`) {
		t.Errorf("duplicate id: %v", err)
	}
	if _, err := Load([]string{a, sameToken}, "example.org"); err == nil || !strings.Contains(err.Error(), "share a token") {
		t.Errorf("duplicate as_token: %v", err)
	}
	if _, err := Load([]string{filepath.Join(dir, "missing.yaml")}, "example.org"); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
	regs, err := Load([]string{a}, "example.org")
	if err != nil || len(regs) != 1 || regs[0].File != a {
		t.Errorf("load: %v %v", regs, err)
	}
}

func TestKnownUsers(t *testing.T) {
	r, err := Parse([]byte(goodYAML), "example.org")
	if err != nil {
		t.Fatal(err)
	}
	if r.Known("@_irc_bridge_a:example.org") {
		t.Fatal("nothing is known at first")
	}
	r.Remember("@_irc_bridge_a:example.org")
	if !r.Known("@_irc_bridge_a:example.org") || r.Known("@_irc_bridge_b:example.org") {
		t.Error("Remember/Known")
	}
}
