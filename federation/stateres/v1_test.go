package stateres

import "testing"

func TestResolveV1Graphs(t *testing.T) {
	cases := []graphCase{
		{name: "ban vs power levels", build: func(d *dag) {
			d.add("PA", mPL, "", alice, pl(d, `"@bob:b.test":50`), "IMZ")
			d.add("MB", mMember, bob, alice, `{"membership":"ban"}`, "PA")
			d.add("PB", mPL, "", bob, pl(d, `"@bob:b.test":50,"@carol:c.test":50`), "PA")
		}, heads: []string{"MB", "PB"}, want: map[StateKey]string{plKey: "PA", member(bob): "MB"}},
		{name: "deeper topic wins", build: func(d *dag) {
			d.add("T1", mTopic, "", alice, `{"topic":"one"}`, "IMZ")
			d.add("T2", mTopic, "", alice, `{"topic":"two"}`, "T1")
			d.add("T3", mTopic, "", alice, `{"topic":"three"}`, "IMZ")
		}, heads: []string{"T2", "T3"}, want: map[StateKey]string{topicKey: "T2"}},
		{name: "disallowed deeper topic is skipped", build: func(d *dag) {
			d.add("PA", mPL, "", alice, pl(d, `"@bob:b.test":50`), "IMZ")
			d.add("T1", mTopic, "", alice, `{"topic":"one"}`, "PA")
			d.add("MB", mMember, bob, alice, `{"membership":"leave"}`, "T1")
			d.add("T2", mTopic, "", bob, `{"topic":"two"}`, "PA")
			d.add("T3", mTopic, "", bob, `{"topic":"three"}`, "T2")
		}, heads: []string{"MB", "T3"}, want: map[StateKey]string{topicKey: "T1", member(bob): "MB"}},
		{name: "join rule evasion is a known v1 flaw", build: func(d *dag) {
			d.add("JR", mJR, "", alice, `{"join_rule":"invite"}`, "IMZ")
			d.add("MD", mMember, dave, dave, `{"membership":"join"}`, "IMZ")
		}, heads: []string{"JR", "MD"}, want: map[StateKey]string{jrKey: "JR", member(dave): "MD"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDAG(t, "1")
			tc.build(d)
			d.expect(d.resolve(tc.heads...), tc.want)
		})
	}
}
