package membership

import (
	"encoding/json"
	"testing"

	"github.com/kabarchat/kabar/federation/event"
)

// TestTemplateRefs: format-1 references in a make_join template are
// [event_id, hashes] pairs; Synapse sends {} for hashes, which is kept
// (no hash recorded), while a malformed hash or pair is refused.
func TestTemplateRefs(t *testing.T) {
	rv := event.LookupRoomVersion("1")
	cases := []struct {
		name    string
		refs    string
		ids     int
		hashes  int
		wantErr bool
	}{
		{"with hash", `[["$a:x",{"sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"}]]`, 1, 1, false},
		{"empty hashes (Synapse)", `[["$a:x",{}],["$b:x",{}]]`, 2, 0, false},
		{"bad hash", `[["$a:x",{"sha256":"nope"}]]`, 0, 0, true},
		{"not a pair", `["$a:x"]`, 0, 0, true},
		{"hashes not an object", `[["$a:x","x"]]`, 0, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var refs []json.RawMessage
			if err := json.Unmarshal([]byte(tc.refs), &refs); err != nil {
				t.Fatal(err)
			}
			hashes := map[string][32]byte{}
			ids, err := templateRefs(rv, refs, hashes)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && (len(ids) != tc.ids || len(hashes) != tc.hashes) {
				t.Fatalf("ids %v hashes %d, want %d/%d", ids, len(hashes), tc.ids, tc.hashes)
			}
		})
	}
}
