package event

import "testing"

// BenchmarkParseVerify: the receive path for one typical v10 event.
func BenchmarkParseVerify(b *testing.B) {
	rv := LookupRoomVersion("10")
	_, msg := buildRoom(b, rv)
	lookup := testLookup(b)
	data := msg.JSON()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		ev, err := Parse(rv, data)
		if err != nil {
			b.Fatal(err)
		}
		if err := ev.VerifySignatures(lookup); err != nil || !ev.ContentHashValid() {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuild: building and signing one v10 message.
func BenchmarkBuild(b *testing.B) {
	rv := LookupRoomVersion("10")
	key := testKey(b)
	bl := Builder{RoomID: "!r:domain", Sender: "@a:domain", Type: "m.room.message",
		Content: map[string]any{"body": "hello", "msgtype": "m.text"}, PrevEvents: []string{"$p"},
		AuthEvents: []string{"$a1", "$a2", "$a3"}, Depth: 5, OriginServerTS: 1}
	for b.Loop() {
		if _, err := bl.Build(rv, "domain", "ed25519:1", key); err != nil {
			b.Fatal(err)
		}
	}
}
