package spec

import "testing"

func TestParseServerName(t *testing.T) {
	good := []string{"matrix.org", "matrix.org:8888", "1.2.3.4", "1.2.3.4:1234", "[1234:5678::abcd]", "[1234:5678::abcd]:5678", "localhost", "127.0.0.1:8448"}
	bad := []string{"", "matrix.org:", "matrix.org:abc", "matrix.org:99999", "[1234:5678::abcd", "exa mple.org", "[1.2.3.4]", "a/b", "ex_ample.org"}
	for _, s := range good {
		if _, err := ParseServerName(s); err != nil {
			t.Errorf("ParseServerName(%q) = %v, want ok", s, err)
		}
	}
	for _, s := range bad {
		if _, err := ParseServerName(s); err == nil {
			t.Errorf("ParseServerName(%q) ok, want error", s)
		}
	}
}

func TestUserID(t *testing.T) {
	u, err := ParseUserID("@alice:example.org:8448")
	if err != nil {
		t.Fatal(err)
	}
	if u.Localpart() != "alice" || u.Server() != "example.org:8448" {
		t.Fatalf("got %q %q", u.Localpart(), u.Server())
	}
	for _, s := range []string{"alice:example.org", "@:example.org", "@alice", "@al ice:example.org", "@alice:"} {
		if _, err := ParseUserID(s); err == nil {
			t.Errorf("ParseUserID(%q) ok, want error", s)
		}
	}
	if ValidLocalpart("Alice") || !ValidLocalpart("a.b_c=d-e/f+g") {
		t.Fatal("ValidLocalpart wrong")
	}
}
