package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/testlog"
)

// serveLogged runs shardlogd with args, its log in the returned buffer;
// stop shuts it down gracefully and returns run's error.
func serveLogged(t *testing.T, args ...string) (endpoint string, log *testlog.Buffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	log = &testlog.Buffer{}
	errc := make(chan error, 1)
	go func() {
		err := run(ctx, nil, append([]string{"-addr", "127.0.0.1:0", "-limits=false", "-drain", "0"}, args...), pw, log)
		pw.CloseWithError(err)
		errc <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			http.DefaultClient.CloseIdleConnections()
			cancel()
			runErr = <-errc
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return strings.TrimSpace(line), log, stop
}

func get(t *testing.T, url string) (int, string) {
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func sdkClient(endpoint string) *kinesis.Client {
	return kinesis.New(kinesis.Options{BaseEndpoint: aws.String(endpoint), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("x", "x", ""), RetryMaxAttempts: 1})
}

// TestHealthAndProfiler: /healthz, /readyz and /metrics answer GETs
// beside the Kinesis API; the profiler only with -pprof.
func TestHealthAndProfiler(t *testing.T) {
	endpoint, _, _ := serveLogged(t, "-log-level", "error")
	status, body := get(t, endpoint+"/healthz")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "ok\n", body)
	status, body = get(t, endpoint+"/readyz")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "ready\n", body)
	client := sdkClient(endpoint)
	_, err := client.CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: aws.String("s"), ShardCount: aws.Int32(1)})
	require.NoError(t, err)
	_, err = client.PutRecord(context.Background(), &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("v")})
	require.NoError(t, err)
	status, body = get(t, endpoint+"/metrics")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `shardlog_put_record_success_sum{stream="s"} 1`)
	require.Contains(t, body, "go_goroutines")
	status, _ = get(t, endpoint+"/debug/pprof/")
	require.Equal(t, http.StatusForbidden, status, "answered as Kinesis answers a GET")
	require.NoError(t, errOf(sdkClient(endpoint).ListStreams(context.Background(), &kinesis.ListStreamsInput{})))

	endpoint, _, _ = serveLogged(t, "-log-level", "error", "-pprof")
	status, body = get(t, endpoint+"/debug/pprof/")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "goroutine")
}

// TestRequestLogsInJSON: -log-format json writes one JSON object per line;
// at debug level every request is there with its operation and stream.
func TestRequestLogsInJSON(t *testing.T) {
	endpoint, log, stop := serveLogged(t, "-log-level", "debug", "-log-format", "json")
	c := sdkClient(endpoint)
	_, err := c.CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: aws.String("orders"), ShardCount: aws.Int32(1)})
	require.NoError(t, err)
	_, err = c.PutRecord(context.Background(), &kinesis.PutRecordInput{StreamName: aws.String("nope"), PartitionKey: aws.String("k"), Data: []byte("x")})
	require.Error(t, err)
	require.NoError(t, stop())
	var requests []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		if m["msg"] == "request" {
			requests = append(requests, m)
		}
	}
	require.Len(t, requests, 2)
	require.Equal(t, "CreateStream", requests[0]["op"])
	require.Equal(t, "orders", requests[0]["stream"])
	require.EqualValues(t, 200, requests[0]["status"])
	require.Equal(t, "PutRecord", requests[1]["op"])
	require.Equal(t, "ResourceNotFoundException", requests[1]["error"])
	require.EqualValues(t, 400, requests[1]["status"])
}

// TestRequestLogsAreSampled: at info level a flood of requests is logged
// at most -log-requests a second.
func TestRequestLogsAreSampled(t *testing.T) {
	endpoint, log, stop := serveLogged(t, "-log-level", "info", "-log-requests", "1")
	c := sdkClient(endpoint)
	for range 20 {
		require.NoError(t, errOf(c.ListStreams(context.Background(), &kinesis.ListStreamsInput{})))
	}
	require.NoError(t, stop())
	n := strings.Count(log.String(), "msg=request")
	require.GreaterOrEqual(t, n, 1)
	require.Less(t, n, 20, "sampled")
}

// TestGracefulShutdown: shutting down ends an open subscription cleanly,
// lets the server stop at once rather than after the subscription's five
// minutes, and says so in the log.
func TestGracefulShutdown(t *testing.T) {
	endpoint, log, stop := serveLogged(t, "-log-level", "info", "-data", t.TempDir())
	c := sdkClient(endpoint)
	ctx := context.Background()
	_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("s"), ShardCount: aws.Int32(1)})
	require.NoError(t, err)
	d, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("s")})
	require.NoError(t, err)
	reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: d.StreamDescriptionSummary.StreamARN, ConsumerName: aws.String("app")})
	require.NoError(t, err)
	out, err := kinesis.New(c.Options()).SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN,
		ShardId: aws.String("shardId-000000000000"), StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
	require.NoError(t, err)
	stream := out.GetStream()
	defer stream.Close()

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	deadline := time.After(9 * time.Second) // below the shutdown timeout
	for open := true; open; {
		select {
		case _, open = <-stream.Events():
		case <-deadline:
			t.Fatal("the subscription did not end")
		}
	}
	require.NoError(t, stream.Err(), "a clean end")
	select {
	case err := <-stopped:
		require.NoError(t, err)
	case <-deadline:
		t.Fatal("the server did not stop")
	}
	require.Contains(t, log.String(), "msg=draining")
	require.Contains(t, log.String(), "msg=stopped")
}

// TestListensWhileOpening: the server listens before its account is open:
// /healthz answers 200, /readyz, /metrics and the API 503 (which SDKs
// retry); once open, all are served.
func TestListensWhileOpening(t *testing.T) {
	log := &testlog.Buffer{}
	s, err := parseFlags([]string{"-addr", "127.0.0.1:0", "-limits=false", "-drain", "0"}, log)
	require.NoError(t, err)
	opening, release := make(chan struct{}), make(chan struct{})
	s.open = func(opts ...shardlog.Option) (*shardlog.Account, error) {
		close(opening)
		<-release
		return shardlog.NewAccount(opts...)
	}
	stop, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		err := listenAndServe(stop, nil, s, pw)
		pw.CloseWithError(err)
		errc <- err
	}()
	<-opening
	_, after, ok := strings.Cut(log.String(), "endpoint=")
	require.True(t, ok, log.String())
	endpoint, _, _ := strings.Cut(after, "\n")

	status, _ := get(t, endpoint+"/healthz")
	require.Equal(t, http.StatusOK, status)
	for _, path := range []string{"/readyz", "/metrics"} {
		status, _ = get(t, endpoint+path)
		require.Equal(t, http.StatusServiceUnavailable, status, path)
	}
	_, err = sdkClient(endpoint).ListStreams(context.Background(), &kinesis.ListStreamsInput{})
	var re *awshttp.ResponseError
	require.ErrorAs(t, err, &re)
	require.Equal(t, http.StatusServiceUnavailable, re.HTTPStatusCode())
	require.True(t, retry.NewStandard().IsErrorRetryable(err), "SDKs retry it")

	close(release)
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, endpoint, strings.TrimSpace(line), "printed once open")
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	for _, path := range []string{"/readyz", "/metrics"} {
		status, _ = get(t, endpoint+path)
		require.Equal(t, http.StatusOK, status, path)
	}
	require.NoError(t, errOf(sdkClient(endpoint).ListStreams(context.Background(), &kinesis.ListStreamsInput{})))
	http.DefaultClient.CloseIdleConnections()
	cancel()
	require.NoError(t, <-errc)
}

// TestOpeningFailsCleanly: an account that cannot be opened stops the
// server, its listener closed.
func TestOpeningFailsCleanly(t *testing.T) {
	s, err := parseFlags([]string{"-addr", "127.0.0.1:0", "-log-level", "error"}, io.Discard)
	require.NoError(t, err)
	s.open = func(...shardlog.Option) (*shardlog.Account, error) { return nil, errors.New("no disk") }
	require.ErrorContains(t, listenAndServe(context.Background(), nil, s, io.Discard), "no disk")
}

// TestDrainsBeforeClosing: asked to stop, the server first turns /readyz
// to 503 and goes on serving, each response closing its connection, until
// the drain period ends or it is asked again.
func TestDrainsBeforeClosing(t *testing.T) {
	log := &testlog.Buffer{}
	stop, cancel := context.WithCancel(context.Background())
	hurry := make(chan struct{})
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		err := run(stop, hurry, []string{"-addr", "127.0.0.1:0", "-limits=false", "-drain", "1h"}, pw, log)
		pw.CloseWithError(err)
		errc <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	endpoint := strings.TrimSpace(line)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	status, body := post(t, client, endpoint, "CreateStream", `{"StreamName":"s","ShardCount":1}`)
	require.Equal(t, http.StatusOK, status, body)

	cancel()
	for start := time.Now(); ; {
		status, _ := get(t, endpoint+"/readyz")
		if status == http.StatusServiceUnavailable {
			break
		}
		require.Less(t, time.Since(start), 10*time.Second, "/readyz still ready")
	}
	for range 3 {
		req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(`{"StreamName":"s","PartitionKey":"k","Data":"eA=="}`))
		req.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecord")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		madeUpSignature(req)
		resp, err := client.Do(req)
		require.NoError(t, err, "still served")
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.True(t, resp.Close, "Connection: close")
	}
	status, _ = get(t, endpoint+"/healthz")
	require.Equal(t, http.StatusOK, status)

	close(hurry)
	require.NoError(t, <-errc)
	require.Contains(t, log.String(), "the drain ends now")
	_, err = client.Get(endpoint + "/healthz")
	require.Error(t, err, "closed")
}

// TestOperationsEndpointsCheckTheHost: /metrics, /healthz and the
// profiler refuse, on loopback, a Host that is not a loopback name (DNS
// rebinding), as the API does; the profiler serves loopback clients only.
func TestOperationsEndpointsCheckTheHost(t *testing.T) {
	endpoint := start(t, "-pprof")
	_, port, _ := strings.Cut(strings.TrimPrefix(endpoint, "http://"), ":")
	for _, path := range []string{"/metrics", "/healthz", "/debug/pprof/cmdline"} {
		req, _ := http.NewRequest(http.MethodGet, endpoint+path, nil)
		req.Host = "rebound.example:" + port
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusForbidden, resp.StatusCode, path)
		status, _ := get(t, endpoint+path)
		require.Equal(t, http.StatusOK, status, path)
	}

	allowed := start(t, "-allow-host", "rebound.example")
	req, _ := http.NewRequest(http.MethodGet, allowed+"/metrics", nil)
	req.Host = "rebound.example"
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	front := newOps(true, nil)
	for remote, want := range map[string]int{"192.0.2.7:5000": http.StatusForbidden, "127.0.0.1:5000": http.StatusOK, "[::1]:5000": http.StatusOK} {
		req := httptest.NewRequest(http.MethodGet, "/debug/pprof/cmdline", nil)
		req.RemoteAddr = remote
		w := httptest.NewRecorder()
		front.ServeHTTP(w, req)
		require.Equal(t, want, w.Code, remote)
	}
}

func errOf[T any](_ T, err error) error { return err }

// TestFirehoseOnThePort: Firehose's API shares the port, its delivery
// streams' metrics are on /metrics, and without -buckets and -data the
// buckets' temporary folder goes at exit.
func TestFirehoseOnThePort(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the buckets' temporary folder goes
	endpoint, _, stop := serveLogged(t, "-log-level", "error")
	fh := firehose.New(firehose.Options{BaseEndpoint: aws.String(endpoint), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("x", "x", ""), RetryMaxAttempts: 1})
	_, err := fh.CreateDeliveryStream(context.Background(), &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("web"),
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::lake"),
			RoleARN: aws.String("arn:aws:iam::000000000000:role/r")}})
	require.NoError(t, err)
	_, err = fh.PutRecord(context.Background(), &firehose.PutRecordInput{DeliveryStreamName: aws.String("web"), Record: &fhtypes.Record{Data: []byte("x\n")}})
	require.NoError(t, err)
	status, body := get(t, endpoint+"/metrics")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `shardlog_firehose_incoming_records_total{delivery_stream="web"} 1`)
	streams, err := sdkClient(endpoint).ListStreams(context.Background(), &kinesis.ListStreamsInput{})
	require.NoError(t, err)
	require.Empty(t, streams.StreamNames, "a direct-put delivery stream's records are not in a Kinesis stream of the account")
	buckets, _ := filepath.Glob(filepath.Join(tmp, "shardlogd-buckets-*"))
	require.Len(t, buckets, 1)
	require.NoError(t, stop())
	_, err = os.Stat(buckets[0])
	require.ErrorIs(t, err, os.ErrNotExist, "the temporary buckets folder is removed at exit")
}
