package sync

import (
	"fmt"
	"strconv"
	"strings"
)

// TopoToken is a gap in a room's topological order (depth, then stream
// position), named by the position of the event just after it: the
// pagination tokens of /messages and the prev_batch of a /sync timeline.
// Paging backwards from it returns the events before the gap, forwards
// the events after it. Stream is negative for backfilled history.
type TopoToken struct {
	Depth  int64
	Stream int64
}

// String encodes the token as "t<depth>_<stream>".
func (t TopoToken) String() string { return fmt.Sprintf("t%d_%d", t.Depth, t.Stream) }

// ParseTopoToken decodes a token written by String.
func ParseTopoToken(s string) (TopoToken, error) {
	rest, ok := strings.CutPrefix(s, "t")
	if !ok {
		return TopoToken{}, fmt.Errorf("not a pagination token")
	}
	d, p, ok := strings.Cut(rest, "_")
	if !ok {
		return TopoToken{}, fmt.Errorf("not a pagination token")
	}
	depth, err1 := strconv.ParseInt(d, 10, 64)
	stream, err2 := strconv.ParseInt(p, 10, 64)
	if err1 != nil || err2 != nil || depth < 0 {
		return TopoToken{}, fmt.Errorf("not a pagination token")
	}
	return TopoToken{Depth: depth, Stream: stream}, nil
}
