package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/testlog"
	"github.com/shardlog/shardlog/kinesisapi"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// count returns how many records the stream holds.
func count(t *testing.T, s *shardlog.Stream) int {
	t.Helper()
	n := 0
	for _, err := range s.ReadAll(t.Context(), shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		require.NoError(t, err)
		n++
	}
	return n
}

// TestShipsToKinesisEndpoint: the command, given an agent.json naming a
// Kinesis endpoint (here kinesisapi, as shardlogd serves it), sends the
// log's lines there, and stops cleanly on its context's end.
func TestShipsToKinesisEndpoint(t *testing.T) {
	acct, err := shardlog.NewAccount(shardlog.WithoutLimits())
	require.NoError(t, err)
	defer acct.Close()
	s, err := acct.CreateStream(t.Context(), shardlog.CreateStreamInput{StreamName: "logs", ShardCount: 1})
	require.NoError(t, err)
	srv := httptest.NewServer(kinesisapi.NewHandler(acct))
	defer srv.Close()

	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	require.NoError(t, os.WriteFile(log, []byte("one\ntwo\n"), 0o644))
	config := filepath.Join(dir, "agent.json")
	require.NoError(t, os.WriteFile(config, fmt.Appendf(nil, `{"kinesis.endpoint": %q, "awsAccessKeyId": "AKID", "awsSecretAccessKey": "SECRET",
	  "checkpointFile": %q, "flows": [{"filePattern": %q, "kinesisStream": "logs", "initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000}]}`,
		srv.URL, filepath.Join(dir, "checkpoints"), log), 0o644))

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-c", config}, io.Discard) }()
	require.Eventually(t, func() bool { return count(t, s) == 2 }, 20*time.Second, 20*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	b, err := os.ReadFile(filepath.Join(dir, "checkpoints"))
	require.NoError(t, err)
	require.Contains(t, string(b), `"offset":8`, "both lines checkpointed")
}

// TestEmbeddedDestination: with -data, the streams are an embedded durable
// account's, made as they are first named.
func TestEmbeddedDestination(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	require.NoError(t, os.WriteFile(log, []byte("one\n"), 0o644))
	config := filepath.Join(dir, "agent.json")
	require.NoError(t, os.WriteFile(config, fmt.Appendf(nil, `{"checkpointFile": %q, "flows": [{"filePattern": %q,
	  "kinesisStream": "logs", "initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000}]}`, filepath.Join(dir, "checkpoints"), log), 0o644))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-c", config, "-data", filepath.Join(dir, "data")}, io.Discard) }()
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "checkpoints"))
		return strings.Contains(string(b), `"offset":4`)
	}, 20*time.Second, 20*time.Millisecond)
	cancel()
	require.NoError(t, <-done)

	acct, err := shardlog.NewAccount(shardlog.WithDir(filepath.Join(dir, "data")))
	require.NoError(t, err)
	defer acct.Close()
	s, err := acct.Stream(shardlog.StreamRef{StreamName: "logs"})
	require.NoError(t, err)
	require.Equal(t, 1, count(t, s))
}

// TestRefusesBadInput: a missing or bad configuration is an error naming
// what is wrong.
func TestRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	err := run(t.Context(), []string{"-c", filepath.Join(dir, "none.json")}, io.Discard)
	require.ErrorIs(t, err, os.ErrNotExist)
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"flows": [{"filePattern": "/x"}]}`), 0o644))
	require.ErrorContains(t, run(t.Context(), []string{"-c", bad}, io.Discard), "kinesisStream is required")
	require.Error(t, run(t.Context(), []string{"-c", bad, "extra"}, io.Discard))

	// A stream the endpoint does not have.
	acct, err := shardlog.NewAccount()
	require.NoError(t, err)
	defer acct.Close()
	srv := httptest.NewServer(kinesisapi.NewHandler(acct))
	defer srv.Close()
	missing := filepath.Join(dir, "missing.json")
	require.NoError(t, os.WriteFile(missing, fmt.Appendf(nil, `{"kinesis.endpoint": %q, "awsAccessKeyId": "AKID", "awsSecretAccessKey": "SECRET",
	  "checkpointFile": %q, "flows": [{"filePattern": "/var/log/none.log", "kinesisStream": "nowhere"}]}`, srv.URL, filepath.Join(dir, "checkpoints")), 0o644))
	err = run(t.Context(), []string{"-c", missing}, io.Discard)
	require.ErrorIs(t, err, shardlog.ErrResourceNotFound)
	require.ErrorContains(t, err, "stream nowhere")
}

// TestServesMetrics: with -metrics, GET /metrics has the agent's counts
// and each file's lag, for Prometheus.
func TestServesMetrics(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	require.NoError(t, os.WriteFile(log, []byte("one\ntwo\n"), 0o644))
	config := filepath.Join(dir, "agent.json")
	require.NoError(t, os.WriteFile(config, fmt.Appendf(nil, `{"checkpointFile": %q, "flows": [{"filePattern": %q,
	  "kinesisStream": "logs", "initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000}]}`, filepath.Join(dir, "checkpoints"), log), 0o644))
	ctx, cancel := context.WithCancel(t.Context())
	var stderr testlog.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-c", config, "-data", filepath.Join(dir, "data"), "-metrics", "127.0.0.1:0"}, &stderr)
	}()
	addr := regexp.MustCompile(`metrics" addr=(\S+)`)
	var url string
	require.Eventually(t, func() bool {
		m := addr.FindStringSubmatch(stderr.String())
		if m != nil {
			url = "http://" + m[1] + "/metrics"
		}
		return m != nil
	}, 20*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "shardlog_agent_records_sent_total 2") &&
			strings.Contains(string(b), fmt.Sprintf(`shardlog_agent_lag_bytes{file=%q,stream="logs"} 0`, log))
	}, 20*time.Second, 20*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	_, err := http.Get(url)
	require.Error(t, err, "the metrics server stops with the agent")
}
