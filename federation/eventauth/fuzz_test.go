package eventauth

import (
	"testing"
)

// FuzzCheck feeds arbitrary content to member and power levels events:
// Check must never panic and must only fail with *Error.
func FuzzCheck(f *testing.F) {
	for _, seed := range []string{
		`{"membership":"join"}`, `{"membership":"invite","third_party_invite":{"signed":{"mxid":"@bob:b.test","token":"t","signatures":{"x":{"y":"z"}}}}}`,
		`{"users":{"@bob:b.test":"10"},"events":{"a":1.5}}`, `[]`, `null`, `{"membership":"join","join_authorised_via_users_server":"@alice:a.test"}`,
	} {
		f.Add("10", seed)
		f.Add("3", seed)
	}
	f.Fuzz(func(t *testing.T, version, content string) {
		if version != "3" {
			version = "10"
		}
		r := newTestRoom(version)
		r.joinRule("restricted")
		for _, typ := range []string{TypeMember, TypePowerLevels} {
			ev := r.ev(typ, strp(bob), bob, content)
			if typ == TypePowerLevels {
				ev = r.ev(typ, strp(""), alice, content)
			}
			if err := Check(ev, r.state); err != nil {
				if _, ok := err.(*Error); !ok {
					t.Fatalf("non-auth error %T: %v", err, err)
				}
			}
			_ = StateKeysNeeded(ev)
		}
	})
}
