package analytics_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/analytics"
)

type row struct {
	Key        string
	Start, End time.Duration // from t0
	Value      int64
}

func rows(rs []analytics.Result[string, int64]) []row {
	out := make([]row, len(rs))
	for i, r := range rs {
		out[i] = row{r.Key, r.Start.Sub(t0), r.End.Sub(t0), r.Value}
	}
	slices.SortFunc(out, func(a, b row) int {
		if c := a.Start - b.Start; c != 0 {
			return int(c / time.Millisecond)
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// TestTumblingCountsInEventTime: each page's clicks per minute, across two
// shards, fire when both shards' watermarks pass the minute.
func TestTumblingCountsInEventTime(t *testing.T) {
	r := newRig(t, 2)
	start(t, r.countConfig(analytics.Tumbling(time.Minute)))
	r.put(0, click{Page: "a", At: ms(10 * time.Second)})
	r.put(0, click{Page: "b", At: ms(20 * time.Second)})
	r.put(0, click{Page: "a", At: ms(65 * time.Second)})
	r.put(1, click{Page: "a", At: ms(50 * time.Second)})
	r.put(1, click{Page: "a", At: ms(30 * time.Second)})
	r.put(1, click{Page: "b", At: ms(70 * time.Second)})
	r.put(0, click{Page: "x", At: ms(150 * time.Second)}) // shard 0 past minute 2; shard 1 holds the watermark
	r.put(1, click{Page: "x", At: ms(150 * time.Second)})
	got := rows(r.next(4))
	require.Equal(t, []row{
		{"a", 0, time.Minute, 3}, {"b", 0, time.Minute, 1},
		{"a", time.Minute, 2 * time.Minute, 1}, {"b", time.Minute, 2 * time.Minute, 1},
	}, got)
}
