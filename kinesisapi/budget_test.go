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

func TestMemoryWaitsInOrderAndGivesUpWithItsContext(t *testing.T) {
	m := newMemory(100, 100, 100)
	a, b := holder{"a:1", "a"}, holder{"b:1", "b"}
	waiting := make(chan struct{}, 4)
	m.onWait = func() { waiting <- struct{}{} }
	require.NoError(t, m.acquire(context.Background(), a, 80))

	// A large waiter first, then a small one that would fit: the small one
	// waits its turn rather than starve the large one.
	large, small := make(chan error, 1), make(chan error, 1)
	go func() { large <- m.acquire(context.Background(), b, 60) }()
	<-waiting
	go func() { small <- m.acquire(context.Background(), b, 10) }()
	<-waiting
	m.release(a, 80)
	require.NoError(t, <-large)
	require.NoError(t, <-small)

	// A waiter whose context ends gets its error, and takes nothing.
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() { gone <- m.acquire(ctx, a, 50) }()
	<-waiting
	cancel()
	require.ErrorIs(t, <-gone, context.Canceled)
	m.release(b, 70)
	require.NoError(t, m.acquire(context.Background(), a, 100), "everything came back")

	require.NoError(t, m.acquire(context.Background(), a, 0))
	m.release(a, 100)
	require.NoError(t, m.acquire(context.Background(), a, 1<<40), "more than the total takes all of it")
	m.release(a, 1<<40)
	require.Equal(t, int64(100), m.free)
	require.Empty(t, m.byConn)
	require.Empty(t, m.byAddr)
}

// TestMemorySharesKeepAClientToItself: a client that holds its share
// waits on itself, while others go by it; a connection holds at most its
// share too.
func TestMemorySharesKeepAClientToItself(t *testing.T) {
	m := newMemory(100, 30, 40)
	waiting := make(chan struct{}, 4)
	m.onWait = func() { waiting <- struct{}{} }
	greedy1, greedy2, other := holder{"g:1", "g"}, holder{"g:2", "g"}, holder{"o:1", "o"}
	require.NoError(t, m.acquire(context.Background(), greedy1, 30)) // its connection's share
	more := make(chan error, 1)
	go func() { more <- m.acquire(context.Background(), greedy1, 1) }()
	<-waiting
	require.NoError(t, m.acquire(context.Background(), greedy2, 10)) // the client's share
	again := make(chan error, 1)
	go func() { again <- m.acquire(context.Background(), greedy2, 10) }()
	<-waiting
	// The greedy client waits on itself; another client is served at once,
	// although it came after.
	require.NoError(t, m.acquire(context.Background(), other, 30))
	m.release(greedy1, 30)
	require.NoError(t, <-more)
	require.NoError(t, <-again)
}

// TestRequestsWaitForMemoryThen503: with the request memory taken, a
// request waits for it until its body timeout, then gets 503, which SDKs
// retry.
func TestRequestsWaitForMemoryThen503(t *testing.T) {
	acct, err := shardlog.NewAccount()
	require.NoError(t, err)
	defer acct.Close()
	h := NewHandler(acct, WithMaxRequestMemory(1000), WithUnsignedRequests()).(*handler)
	slow := holder{"192.0.2.1:1", "192.0.2.1"}
	require.NoError(t, h.memory.acquire(context.Background(), slow, 1000)) // a client that holds it all
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
	h.memory.release(slow, 1000)
	req = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, int64(1000), h.memory.free, "the request gave its memory back")
}
