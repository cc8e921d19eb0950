package receiver

import "testing"

func TestACL(t *testing.T) {
	no := false
	tests := []struct {
		acl    aclContent
		server string
		want   bool
	}{
		{aclContent{Allow: []string{"*"}}, "a.test", true},
		{aclContent{Allow: []string{"*"}, Deny: []string{"*.evil.test"}}, "x.evil.test", false},
		{aclContent{Allow: []string{"*"}, Deny: []string{"*.evil.test"}}, "evil.test", true},
		{aclContent{Allow: []string{"*"}, Deny: []string{"evil.test"}}, "EVIL.test:8448", false},
		{aclContent{Allow: []string{"good.test"}}, "other.test", false},
		{aclContent{Allow: []string{"?.test"}}, "a.test", true},
		{aclContent{Allow: []string{"?.test"}}, "ab.test", false},
		{aclContent{Allow: []string{"*"}, AllowIPLiterals: &no}, "127.0.0.2:8448", false},
		{aclContent{Allow: []string{"*"}, AllowIPLiterals: &no}, "[::1]:8448", false},
		{aclContent{Allow: []string{"*"}}, "[::1]:8448", true},
		{aclContent{}, "a.test", false},
	}
	for _, tc := range tests {
		if got := aclAllows(tc.acl, tc.server); got != tc.want {
			t.Errorf("%+v %s = %v", tc.acl, tc.server, got)
		}
	}
	if !globMatch("a*b*c*d*e*f*", "aXbXcXdXeXfXXXXXXXXXXXXXXXXXXXXXXXXXXXXX") || globMatch("a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") {
		t.Error("glob")
	}
}
