package kinesisapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

func TestBudgetWaitsInOrderAndGivesUpWithItsContext(t *testing.T) {
	b := newBudget(100)
	waiting := make(chan struct{}, 4)
	b.onWait = func() { waiting <- struct{}{} }
	require.NoError(t, b.acquire(context.Background(), 80))

	// A large waiter first, then a small one that would fit: the small one
	// waits its turn rather than starve the large one.
	large, small := make(chan error, 1), make(chan error, 1)
	go func() { large <- b.acquire(context.Background(), 60) }()
	<-waiting
	go func() { small <- b.acquire(context.Background(), 10) }()
	<-waiting
	b.release(80)
	require.NoError(t, <-large)
	require.NoError(t, <-small)

	// A waiter whose context ends gets its error, and takes nothing.
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() { gone <- b.acquire(ctx, 50) }()
	<-waiting
	cancel()
	require.ErrorIs(t, <-gone, context.Canceled)
	b.release(70)
	require.NoError(t, b.acquire(context.Background(), 100), "everything came back")

	require.NoError(t, b.acquire(context.Background(), 0))
	b.release(100)
	require.NoError(t, b.acquire(context.Background(), 1<<40), "more than the budget takes all of it")
}

// TestRequestsWaitForMemoryThen503: with the request memory taken, a
// request waits for it until its body timeout, then gets 503, which SDKs
// retry.
func TestRequestsWaitForMemoryThen503(t *testing.T) {
	acct, err := shardlog.NewAccount()
	require.NoError(t, err)
	defer acct.Close()
	h := NewHandler(acct, WithMaxRequestMemory(1000), WithUnsignedRequests()).(*handler)
	require.NoError(t, h.memory.acquire(context.Background(), 1000)) // a slow client holds it all
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/", strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	h.memory.onWait = cancel // the request's time runs out while it waits
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Equal(t, "ServiceUnavailableException", rec.Header().Get("X-Amzn-ErrorType"))

	h.memory.onWait = nil
	h.memory.release(1000)
	req = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, int64(1000), h.memory.free, "the request gave its memory back")
}
