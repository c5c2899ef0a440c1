package shardlog

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWallNowFollowsTheWallClock(t *testing.T) {
	for range 1000 {
		before := time.Now()
		got := wallNow()
		after := time.Now()
		// Between resyncs the two clocks may part by what NTP slews in a
		// second: microseconds.
		require.False(t, got.Before(before.Add(-time.Millisecond)), "%v before %v", got, before)
		require.False(t, got.After(after.Add(time.Millisecond)), "%v after %v", got, after)
	}
}

func TestWallNowRereadsTheWallClock(t *testing.T) {
	old := time.Now().Add(-wallResync)
	wallBase.Store(&old)
	before := time.Now()
	require.False(t, wallNow().Before(before))
	require.NotSame(t, &old, wallBase.Load(), "a reading a second old is replaced")
	b := wallBase.Load()
	wallNow()
	require.Same(t, b, wallBase.Load(), "a fresh one serves")
}
