package shardlog_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
)

func TestManualClockTimers(t *testing.T) {
	c := shardlog.NewManualClock(t0)
	var fired []string
	c.AfterFunc(2*time.Second, func() { fired = append(fired, "b") })
	c.AfterFunc(time.Second, func() { fired = append(fired, "a") })
	stopped := c.AfterFunc(time.Second, func() { fired = append(fired, "stopped") })
	c.AfterFunc(2*time.Second, func() { fired = append(fired, "c") })
	require.True(t, stopped.Stop())
	require.False(t, stopped.Stop())

	c.Advance(999 * time.Millisecond)
	require.Empty(t, fired)
	c.Advance(time.Millisecond)
	require.Equal(t, []string{"a"}, fired)
	c.Advance(time.Hour)
	require.Equal(t, []string{"a", "b", "c"}, fired, "due timers run in time order, ties in scheduling order")
	require.Equal(t, t0.Add(time.Hour+time.Second), c.Now())

	// A timer may schedule another; one due by the new time runs too.
	c.AfterFunc(time.Second, func() {
		fired = append(fired, "d")
		c.AfterFunc(0, func() { fired = append(fired, "e") })
	})
	c.Set(c.Now().Add(time.Second))
	require.Equal(t, []string{"a", "b", "c", "d", "e"}, fired)

	// Set may move backwards; timers wait for the clock to come back.
	c.Set(t0)
	require.Equal(t, t0, c.Now())
	tm := c.AfterFunc(time.Minute, func() { fired = append(fired, "f") })
	c.Advance(59 * time.Second)
	require.Len(t, fired, 5)
	c.Advance(time.Second)
	require.Len(t, fired, 6)
	require.False(t, tm.Stop(), "Stop after firing")
	require.Panics(t, func() { c.Advance(-1) })
}

func TestSystemClock(t *testing.T) {
	c := shardlog.SystemClock()
	require.WithinDuration(t, time.Now(), c.Now(), time.Minute)
	done := make(chan struct{})
	tm := c.AfterFunc(0, func() { close(done) })
	<-done
	require.False(t, tm.Stop())
}

// TestSleep: Sleep ends when the clock has moved on by its duration, or
// with the context's error.
func TestSleep(t *testing.T) {
	clk := shardlog.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	done := make(chan error, 1)
	go func() { done <- shardlog.Sleep(context.Background(), clk, 5*time.Second) }()
	require.NoError(t, clk.BlockUntil(context.Background(), 1))
	clk.Advance(4 * time.Second)
	select {
	case err := <-done:
		t.Fatalf("woke early: %v", err)
	default:
	}
	clk.Advance(time.Second)
	require.NoError(t, <-done)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, shardlog.Sleep(ctx, clk, time.Hour), context.Canceled)
}
