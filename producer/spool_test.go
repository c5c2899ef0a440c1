package producer_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/producer"
)

// TestSpoolOutlivesAnOutage: with a spool, Put is durable at once; a
// producer closed while the destination is down leaves its records
// spooled, and the next one on the directory delivers them, each once.
func TestSpoolOutlivesAnOutage(t *testing.T) {
	a, s, clk := setup(t, 2)
	dir := t.TempDir()
	down, err := a.InjectFault(shardlog.Fault{Operation: "PutRecords", Times: -1,
		Err: &shardlog.Error{Code: "InternalFailure", Message: "down", Retryable: true}})
	require.NoError(t, err)
	p, err := producer.New(s, producer.Config{Clock: clk, SpoolDir: dir})
	require.NoError(t, err)
	var first []*producer.Result
	for i := range 100 {
		r, err := p.Put(ctx, fmt.Sprintf("k%d", i%7), []byte(fmt.Sprint(i)))
		require.NoError(t, err)
		first = append(first, r)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, p.Close(gone), context.Canceled, "the destination is down: nothing drains")
	for _, r := range first {
		require.ErrorIs(t, r.Err, context.Canceled)
	}
	at, _ := stored(t, s)
	require.Empty(t, at)

	down()
	q := newProducer(t, s, producer.Config{Clock: clk, SpoolDir: dir})
	require.NoError(t, settle(t, clk, func() error { return q.Flush(ctx) }))
	at, _ = stored(t, s)
	require.Len(t, at, 100)
	for k, where := range at {
		assert.Equal(t, 1, where.count, k)
	}
	r, err := q.Put(ctx, "k", []byte("after"))
	require.NoError(t, err)
	require.NoError(t, settle(t, clk, func() error { return q.Close(ctx) }))
	require.NoError(t, r.Err)
	assert.NotEmpty(t, r.ShardID)

	again := newProducer(t, s, producer.Config{Clock: clk, SpoolDir: dir})
	require.NoError(t, settle(t, clk, func() error { return again.Flush(ctx) }))
	at, _ = stored(t, s)
	assert.Len(t, at, 101, "nothing forwarded twice after a clean close")
}

// TestSpoolIsBounded: records not yet forwarded are bounded by
// SpoolMaxBytes: Put fails with ErrSpoolFull, or waits.
func TestSpoolIsBounded(t *testing.T) {
	a, s, clk := setup(t, 1)
	_, err := a.InjectFault(shardlog.Fault{Operation: "PutRecords", Times: -1,
		Err: &shardlog.Error{Code: "InternalFailure", Message: "down", Retryable: true}})
	require.NoError(t, err)
	gone, cancel := context.WithCancel(ctx)
	cancel() // the destination stays down: Close cannot drain
	p, err := producer.New(s, producer.Config{Clock: clk, SpoolDir: t.TempDir(), SpoolMaxBytes: 1000, FailWhenFull: true})
	require.NoError(t, err)
	defer p.Close(gone)
	for range 9 {
		_, err := p.Put(ctx, "k", make([]byte, 99))
		require.NoError(t, err)
	}
	_, err = p.Put(ctx, "k", make([]byte, 200))
	require.ErrorIs(t, err, producer.ErrSpoolFull)

	q, err := producer.New(s, producer.Config{Clock: clk, SpoolDir: t.TempDir(), SpoolMaxBytes: 100})
	require.NoError(t, err)
	defer q.Close(gone)
	_, err = q.Put(ctx, "k", make([]byte, 90))
	require.NoError(t, err)
	waiting, stop := context.WithCancel(ctx)
	stop()
	_, err = q.Put(waiting, "k", make([]byte, 90))
	require.ErrorIs(t, err, context.Canceled)
}
