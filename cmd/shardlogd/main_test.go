package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, []string{"-addr", "127.0.0.1:0", "-limits=false", "-log-level", "error"}, pw) }()
	endpoint, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	endpoint = strings.TrimSpace(endpoint)
	require.True(t, strings.HasPrefix(endpoint, "http://127.0.0.1:"))

	for _, op := range []string{"CreateStream", "ListStreams"} {
		body := `{}`
		if op == "CreateStream" {
			body = `{"StreamName":"s","ShardCount":2}`
		}
		req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, string(got))
		if op == "ListStreams" {
			require.Contains(t, string(got), `"StreamNames":["s"]`)
		}
	}
	http.DefaultClient.CloseIdleConnections()
	cancel()
	require.NoError(t, <-errc)
}

func TestRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-account-id", "12"}, {"-retention", "1h"}, {"-log-level", "loud"}, {"-nope"}} {
		require.Error(t, run(context.Background(), args, io.Discard), args)
	}
}
