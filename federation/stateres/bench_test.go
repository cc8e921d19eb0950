package stateres

import (
	"fmt"
	"testing"
)

// BenchmarkResolveFork1000 resolves two branches of 500 state events each
// (1,000 in all) that overlap on 250 keys, with a power levels change every
// 50 events on each side.
func BenchmarkResolveFork1000(b *testing.B) {
	for _, v := range []string{"11", "12"} {
		b.Run("v"+v, func(b *testing.B) {
			d := newDAG(b, v)
			heads := []string{}
			for side, start := range []int{0, 250} {
				prev := "IMZ"
				for i := 0; i < 500; i++ {
					name := fmt.Sprintf("S%d_%d", side, i)
					if i%50 == 49 {
						d.add(name, mPL, "", alice, pl(d, fmt.Sprintf(`"@bob:b.test":%d`, side*10+i/50)), prev)
					} else {
						d.add(name, "org.example.k", fmt.Sprint(start+i), alice, `{"v":1}`, prev)
					}
					prev = name
				}
				heads = append(heads, prev)
			}
			sets := []StateMap{d.stateAfter[d.id(heads[0])], d.stateAfter[d.id(heads[1])]}
			d.loads = 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := Resolve(d.rv, sets, d.load); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(d.loads)/float64(b.N), "loads/op")
		})
	}
}
