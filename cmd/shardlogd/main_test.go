package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start runs shardlogd with args on a free loopback port and returns its
// endpoint; it stops when the test ends.
func start(t *testing.T, args ...string) string {
	t.Helper()
	endpoint, stop := serve(t, args...)
	t.Cleanup(stop)
	return endpoint
}

// serve runs shardlogd with args on a free loopback port and returns its
// endpoint and a function that shuts it down.
func serve(t *testing.T, args ...string) (endpoint string, stop func()) {
	endpoint, _, stop = serveOutput(t, args...)
	return endpoint, stop
}

// serveOutput is serve, also returning the lines shardlogd prints after
// its endpoint.
func serveOutput(t *testing.T, args ...string) (endpoint string, more <-chan string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		err := run(ctx, nil, append([]string{"-addr", "127.0.0.1:0", "-limits=false", "-log-level", "error", "-drain", "0"}, args...), pw, os.Stderr)
		pw.CloseWithError(err)
		errc <- err
	}()
	r := bufio.NewReader(pr)
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	lines := make(chan string, 16)
	go func() { // keeps reading, so that printing never blocks shardlogd
		defer close(lines)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			select {
			case lines <- strings.TrimSpace(l):
			default:
			}
		}
	}()
	return strings.TrimSpace(line), lines, func() {
		http.DefaultClient.CloseIdleConnections()
		cancel()
		require.NoError(t, <-errc)
		for range lines { // the reader is done once run has returned
		}
	}
}

// post sends one operation and returns the status and body.
func post(t *testing.T, client *http.Client, endpoint, op, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	madeUpSignature(req)
	resp, err := client.Do(req)
	require.NoError(t, err)
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(got)
}

// madeUpSignature gives r the credentials an SDK configured with made-up
// ones sends: a SigV4 signature that shardlogd without -iam takes
// unchecked.
func madeUpSignature(r *http.Request) {
	now := time.Now().UTC()
	r.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDMADEUP/"+now.Format("20060102")+
		"/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00")
}

// madeUpSignatureLines is madeUpSignature's headers, as lines of a raw
// request.
func madeUpSignatureLines() string {
	r, _ := http.NewRequest(http.MethodPost, "/", nil)
	madeUpSignature(r)
	return "X-Amz-Date: " + r.Header.Get("X-Amz-Date") + "\r\nAuthorization: " + r.Header.Get("Authorization") + "\r\n"
}

// TestCredentialsAsOnAWS: without -iam a request must still carry SigV4
// credentials (any will do), as on AWS; -allow-unsigned serves curl.
func TestCredentialsAsOnAWS(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		status int
		code   string
	}{{nil, 400, "MissingAuthenticationTokenException"}, {[]string{"-allow-unsigned"}, 200, ""}} {
		endpoint := start(t, tc.args...)
		req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader("{}"))
		req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, tc.status, resp.StatusCode, "%v", tc.args)
		require.Equal(t, tc.code, resp.Header.Get("X-Amzn-ErrorType"))
		status, body := post(t, http.DefaultClient, endpoint, "ListStreams", "{}")
		require.Equal(t, http.StatusOK, status, body)
	}
}

func TestServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, nil, []string{"-addr", "127.0.0.1:0", "-limits=false", "-log-level", "error", "-drain", "0"}, pw, os.Stderr)
	}()
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
		madeUpSignature(req)
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
	for _, args := range [][]string{{"-account-id", "12"}, {"-retention", "1h"}, {"-log-level", "loud"}, {"-nope"}, {"-max-conns", "0"}, {"-max-bytes", "-1"},
		{"-sync", "sometimes"}, {"-sync", "-1s"}, {"-data", "/dev/null/x"},
		{"-tls-cert", "c.pem"}, {"-tls-key", "k.pem"}, {"-tls-cert", "/nonexistent.pem", "-tls-key", "/nonexistent.pem"},
		{"-tls-self-signed", "-tls-cert", "c.pem"}, {"-max-streams-per-conn", "0"},
		{"-lambda", "f=http://x"}, {"-lambda", "arn:aws:lambda:us-east-1:000000000000:function:f"}, {"-lambda", "arn:aws:lambda:us-east-1:000000000000:function:f=ftp://x"},
		{"-redshift-cluster", "x=postgres://h/db"}, {"-redshift-cluster", "jdbc:redshift://c:5439/dev=mysql://h/db"}} {
		require.Error(t, run(context.Background(), nil, args, io.Discard, io.Discard), args)
	}
}

// TestConnectionCapEvictsIdleConnections: with every connection slot held
// by idle keep-alive clients, a new client is served, and an idle
// connection is closed to make room.
func TestConnectionCapEvictsIdleConnections(t *testing.T) {
	endpoint := start(t, "-max-conns", "3", "-idle-timeout", "1h")
	addr := strings.TrimPrefix(endpoint, "http://")
	var idle []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Type: application/x-amz-json-1.1\r\n%sContent-Length: 2\r\n\r\n{}", addr, madeUpSignatureLines())
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		idle = append(idle, c) // now idle, kept alive
	}
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	status, _ := post(t, client, endpoint, "ListStreams", "{}")
	require.Equal(t, http.StatusOK, status, "a fourth client is served")
	closed := 0
	for _, c := range idle {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(100*time.Millisecond)))
		if _, err := c.Read(make([]byte, 1)); errors.Is(err, io.EOF) {
			closed++
		}
	}
	require.Equal(t, 1, closed, "one idle connection was closed for it")
}

// TestLimitListenerClosesTheLongestIdle: the connection idle longest is the
// one closed to make room.
func TestLimitListenerClosesTheLongestIdle(t *testing.T) {
	l := newLimitListener(nil, 3)
	var conns []net.Conn
	for i := 0; i < 3; i++ {
		a, b := net.Pipe()
		defer b.Close()
		l.slots <- struct{}{}
		c := &limitedConn{Conn: a, l: l}
		conns = append(conns, c)
	}
	for _, i := range []int{1, 0, 2} { // idle in this order
		l.connState(conns[i], http.StateIdle)
	}
	l.connState(conns[2], http.StateActive) // busy again
	require.True(t, l.closeOldestIdle())
	require.Len(t, l.slots, 2, "its slot is free")
	_, err := conns[1].Write([]byte("x"))
	require.ErrorIs(t, err, io.ErrClosedPipe, "the longest idle was closed")
	require.True(t, l.closeOldestIdle())
	_, err = conns[0].Write([]byte("x"))
	require.ErrorIs(t, err, io.ErrClosedPipe)
	require.False(t, l.closeOldestIdle(), "the busy one stays")
}

// TestIdleConnectionsTimeOut: an idle keep-alive connection is closed after
// the idle timeout.
func TestIdleConnectionsTimeOut(t *testing.T) {
	endpoint := start(t, "-idle-timeout", "50ms")
	addr := strings.TrimPrefix(endpoint, "http://")
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Type: application/x-amz-json-1.1\r\n%sContent-Length: 2\r\n\r\n{}", addr, madeUpSignatureLines())
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = br.ReadByte()
	require.ErrorIs(t, err, io.EOF)
}

// TestAccountMemoryIsBounded: past -max-records the oldest records go.
func TestAccountMemoryIsBounded(t *testing.T) {
	endpoint := start(t, "-max-records", "160")
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	status, body := post(t, client, endpoint, "CreateStream", `{"StreamName":"s","ShardCount":1}`)
	require.Equal(t, http.StatusOK, status, body)
	for i := 0; i < 4; i++ {
		var recs []string
		for j := 0; j < 100; j++ {
			recs = append(recs, fmt.Sprintf(`{"PartitionKey":"k","Data":"%s"}`, base64.StdEncoding.EncodeToString([]byte(fmt.Sprint(i*100+j)))))
		}
		status, body := post(t, client, endpoint, "PutRecords", `{"StreamName":"s","Records":[`+strings.Join(recs, ",")+`]}`)
		require.Equal(t, http.StatusOK, status, body)
	}
	recs := firstPage(t, client, endpoint)
	require.LessOrEqual(t, len(recs), 160)
	require.Greater(t, len(recs), 140)
	require.Equal(t, "399", recs[len(recs)-1], "the newest records stay")
}

// firstPage reads stream s's first shard from the trim horizon: the data of
// the first GetRecords page.
func firstPage(t *testing.T, client *http.Client, endpoint string) []string {
	t.Helper()
	status, body := post(t, client, endpoint, "GetShardIterator", `{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}`)
	require.Equal(t, http.StatusOK, status, body)
	var it struct{ ShardIterator string }
	require.NoError(t, json.Unmarshal([]byte(body), &it))
	status, body = post(t, client, endpoint, "GetRecords", `{"ShardIterator":"`+it.ShardIterator+`"}`)
	require.Equal(t, http.StatusOK, status, body)
	var out struct{ Records []struct{ Data []byte } }
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	var data []string
	for _, r := range out.Records {
		data = append(data, string(r.Data))
	}
	return data
}

// TestDataSurvivesRestart: with -data, a stream and its records outlive
// the server, under each sync policy; a second server cannot open the
// directory while the first has it.
func TestDataSurvivesRestart(t *testing.T) {
	for _, policy := range []string{"always", "none", "10ms"} {
		t.Run(policy, func(t *testing.T) {
			dir := t.TempDir()
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()

			endpoint, stop := serve(t, "-data", dir, "-sync", policy)
			status, body := post(t, client, endpoint, "CreateStream", `{"StreamName":"s","ShardCount":1}`)
			require.Equal(t, http.StatusOK, status, body)
			status, body = post(t, client, endpoint, "PutRecord", `{"StreamName":"s","PartitionKey":"k","Data":"a2VwdA=="}`)
			require.Equal(t, http.StatusOK, status, body)
			err := run(context.Background(), nil, []string{"-addr", "127.0.0.1:0", "-data", dir}, io.Discard, io.Discard)
			require.ErrorContains(t, err, "is open in another account")
			client.CloseIdleConnections()
			stop()

			endpoint, stop = serve(t, "-data", dir, "-sync", policy)
			defer stop()
			require.Equal(t, []string{"kept"}, firstPage(t, client, endpoint))
		})
	}
}
