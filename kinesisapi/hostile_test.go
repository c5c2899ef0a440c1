package kinesisapi_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/kinesisapi"
	"github.com/stretchr/testify/require"
)

// Hostile clients: each test here reproduces a way one client exhausted or
// held the server, and checks the bound that stops it.

func call(h http.Handler, op, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func newAccount(t testing.TB, opts ...shardlog.Option) *shardlog.Account {
	t.Helper()
	acct, err := shardlog.NewAccount(append([]shardlog.Option{shardlog.WithoutLimits()}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { acct.Close() })
	require.NoError(t, errOf(acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: 1})))
	return acct
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestPutRecordsBodiesAreNotKept: 100 requests, each padded to 1 MiB with
// white space around a fresh partition key, leave the heap as it was: no
// key stored beyond the call keeps its request body alive.
func TestPutRecordsBodiesAreNotKept(t *testing.T) {
	h := kinesisapi.NewHandler(newAccount(t), kinesisapi.WithUnsignedRequests())
	pad := strings.Repeat(" ", 1<<20)
	before := liveHeap()
	for i := 0; i < 100; i++ {
		body := fmt.Sprintf(`{"StreamName":"s","Records":[{"PartitionKey":"key-%d","Data":"aGk="}]%s}`, i, pad)
		rec := call(h, "PutRecords", body)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	}
	grown := int64(liveHeap()) - int64(before)
	require.Less(t, grown, int64(16<<20), "the heap grew by %d MiB for 200 bytes of records", grown>>20)
}

// TestRequestsCostABoundedMultipleOfTheirBody: bodies built to make the
// decoder allocate far more than they weigh are refused, within a small
// multiple of their size, with AWS's error.
func TestRequestsCostABoundedMultipleOfTheirBody(t *testing.T) {
	h := kinesisapi.NewHandler(newAccount(t), kinesisapi.WithUnsignedRequests())
	repeat := func(prefix, item, suffix string) string {
		n := (8 << 20) / (len(item) + 1)
		return prefix + strings.Repeat(item+",", n) + item + suffix
	}
	for _, tc := range []struct {
		name, op, body, code, message string
	}{
		{"empty records", "PutRecords", repeat(`{"StreamName":"s","Records":[`, `{}`, `]}`), "ValidationException",
			"at 'records' failed to satisfy constraint: Member must have length less than or equal to 500"},
		{"records the fast path declines", "PutRecords", repeat(`{"StreamName":"s","Records":[`, `{"X":1}`, `]}`), "ValidationException",
			"at 'records' failed to satisfy constraint: Member must have length less than or equal to 500"},
		{"numbers for records", "PutRecords", repeat(`{"Records":[`, `1`, `]}`), "SerializationException", ""},
		{"tag keys", "RemoveTagsFromStream", repeat(`{"StreamName":"s","TagKeys":[`, `""`, `]}`), "ValidationException",
			"at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to 50; "},
		{"tags", "AddTagsToStream", repeat(`{"StreamName":"s","Tags":{`, `"":""`, `}}`), "ValidationException",
			"at 'tags' failed to satisfy constraint: Member must have length less than or equal to 200; "},
		{"an unknown member's list", "ListStreams", repeat(`{"X":[`, `0`, `]}`), "SerializationException", ""},
		{"deep nesting", "ListStreams", `{"X":` + strings.Repeat("[", 1<<20) + strings.Repeat("]", 1<<20) + `}`, "SerializationException", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			rec := call(h, tc.op, tc.body)
			runtime.ReadMemStats(&after)
			require.Equal(t, http.StatusBadRequest, rec.Code)
			require.Equal(t, tc.code, rec.Header().Get("X-Amzn-ErrorType"))
			if tc.message != "" {
				require.Contains(t, rec.Body.String(), tc.message)
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			require.Less(t, allocated, uint64(3*len(tc.body)), "allocated %d MiB for a %d MiB body", allocated>>20, len(tc.body)>>20)
		})
	}
}

// TestErrorsSpeakAWSNotGo: malformed bodies get AWS's SerializationException
// wording; no Go type name reaches a client.
func TestErrorsSpeakAWSNotGo(t *testing.T) {
	h := kinesisapi.NewHandler(newAccount(t), kinesisapi.WithUnsignedRequests())
	for _, tc := range []struct{ op, body, message string }{
		{"PutRecord", `{"StreamName":5}`, "class java.math.BigDecimal can not be converted to an String"},
		{"PutRecord", `{"StreamName":true}`, "class java.lang.Boolean can not be converted to an String"},
		{"PutRecord", `{"StreamName":{}}`, "Start of structure or map found where not expected."},
		{"PutRecord", `{"StreamName":[]}`, "Start of list found where not expected"},
		{"PutRecord", `{"Data":5}`, "class java.math.BigDecimal can not be converted to a Blob"},
		{"CreateStream", `{"ShardCount":"2"}`, "class java.lang.String can not be converted to an Integer"},
		{"PutRecords", `{"Records":"x"}`, "Expected list or null"},
		{"CreateStream", `{"Tags":[]}`, "Start of list found where not expected"},
		{"CreateStream", `{"Tags":1}`, "Expected map or null"},
		{"ListShards", `{"ShardFilter":1}`, "Expected null"},
		{"ListStreams", `[]`, "Start of list found where not expected"},
		{"ListStreams", `{`, "The request body is not valid JSON."},
		{"GetShardIterator", `{"Timestamp":1e300}`, "Timestamps must be numbers of seconds since the Unix epoch."},
	} {
		rec := call(h, tc.op, tc.body)
		require.Equal(t, http.StatusBadRequest, rec.Code, tc.body)
		require.Equal(t, "SerializationException", rec.Header().Get("X-Amzn-ErrorType"), tc.body)
		var e struct{ Message string }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e))
		require.Equal(t, tc.message, e.Message, tc.body)
	}
}

// rawRequest writes a request's head and the first part of its body on a
// new connection and returns the connection.
func rawRequest(t *testing.T, addr, op string, contentLength int, first string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Target: Kinesis_20131202.%s\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: %d\r\n\r\n%s",
		addr, op, contentLength, first)
	return c
}

// readStatus reads a response's status code from c, failing rather than
// hanging if none comes within ten seconds.
func readStatus(t *testing.T, c net.Conn) int {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestSlowBodiesTimeOut: a client that starts a body and stops gets 408 and
// loses its connection once the body timeout passes; it holds nothing
// after that.
func TestSlowBodiesTimeOut(t *testing.T) {
	srv := httptest.NewServer(kinesisapi.NewHandler(newAccount(t), kinesisapi.WithBodyTimeout(50*time.Millisecond), kinesisapi.WithUnsignedRequests()))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	c := rawRequest(t, addr, "ListStreams", 1000, `{"x":"`)
	require.Equal(t, http.StatusRequestTimeout, readStatus(t, c))
	_, err := c.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF, "the server closed the connection")

	// So does one to an operation that does not exist: its body is read
	// too, since an empty one gets another answer.
	c = rawRequest(t, addr, "Frobnicate", 1<<20, `{`)
	require.Equal(t, http.StatusRequestTimeout, readStatus(t, c))
	_, err = c.Read(make([]byte, 1))
	require.Error(t, err, "the server did not wait forever for the rest of the body")
}

// TestOversizedBodiesAreRefusedUnread: a declared length over the cap is
// refused before a byte of the body is read.
func TestOversizedBodiesAreRefusedUnread(t *testing.T) {
	srv := httptest.NewServer(kinesisapi.NewHandler(newAccount(t), kinesisapi.WithMaxRequestBytes(1<<20), kinesisapi.WithUnsignedRequests()))
	defer srv.Close()
	c := rawRequest(t, srv.Listener.Addr().String(), "PutRecords", 1<<30, "")
	require.Equal(t, http.StatusRequestEntityTooLarge, readStatus(t, c))
}

// TestHostMustBeLoopbackOnLoopback: a browser made to reach a local server
// by DNS rebinding sends the attacker's name as Host, and is refused.
func TestHostMustBeLoopbackOnLoopback(t *testing.T) {
	acct := newAccount(t)
	srv := httptest.NewServer(kinesisapi.NewHandler(acct, kinesisapi.WithAllowedHosts("kinesis.test"), kinesisapi.WithUnsignedRequests()))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for host, want := range map[string]int{
		"evil.example:" + port:     http.StatusForbidden,
		"evil.example":             http.StatusForbidden,
		"127.0.0.1.nip.io:" + port: http.StatusForbidden,
		"localhost:" + port:        http.StatusOK,
		"LOCALHOST.":               http.StatusOK,
		"app.localhost:" + port:    http.StatusOK,
		"127.0.0.1:" + port:        http.StatusOK,
		"127.9.9.9":                http.StatusOK,
		"[::1]:" + port:            http.StatusOK,
		"kinesis.test:" + port:     http.StatusOK,
	} {
		req := httptestRequest(srv.URL, "Kinesis_20131202.ListStreams", "application/x-amz-json-1.1", "{}")
		req.Host = host
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, want, resp.StatusCode, host)
	}
}

// smallBuffers makes every accepted connection's send buffer small, so a
// client that stops reading blocks the server's writes within kilobytes.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// returns wraps a handler and signals each time a call returns.
func returns(h http.Handler) (http.Handler, <-chan struct{}) {
	done := make(chan struct{}, 16)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { done <- struct{}{} }()
		h.ServeHTTP(w, r)
	}), done
}

func waitReturn(t *testing.T, done <-chan struct{}, why string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler is still held: " + why)
	}
}

// TestSubscribersThatStopReadingAreReleased: a subscriber that stops reading
// blocks the server's writes; when its subscription ends (here its five
// minutes, on the manual clock) the handler lets go within a grace period,
// although the write timeout is an hour.
func TestSubscribersThatStopReadingAreReleased(t *testing.T) {
	clk := shardlog.NewManualClock(t0)
	acct := newAccount(t, shardlog.WithClock(clk))
	s, _ := acct.Stream(shardlog.StreamRef{StreamName: "s"})
	c, err := s.RegisterStreamConsumer(ctx, "app")
	require.NoError(t, err)
	h, done := returns(kinesisapi.NewHandler(acct, kinesisapi.WithWriteTimeout(time.Hour), kinesisapi.WithUnsignedRequests()))
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	defer srv.Close()

	body := `{"ConsumerARN":"` + c.ConsumerARN + `","ShardId":"shardId-000000000000","StartingPosition":{"Type":"TRIM_HORIZON"}}`
	conn := rawRequest(t, srv.Listener.Addr().String(), "SubscribeToShard", len(body), body)
	conn.(*net.TCPConn).SetReadBuffer(4096)
	// The response's head and first frame say the subscription has started
	// (and its five minutes with it); then the client stops reading.
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var prelude [4]byte
	_, err = io.ReadFull(resp.Body, prelude[:])
	require.NoError(t, err)
	_, err = io.ReadFull(resp.Body, make([]byte, binary.BigEndian.Uint32(prelude[:])-4))
	require.NoError(t, err, "the initial-response frame")
	data := bytes.Repeat([]byte("x"), 64<<10)
	for i := 0; i < 64; i++ { // 4 MiB: far more than the buffers between us hold
		_, err := s.PutBatch(ctx, []shardlog.PutInput{{PartitionKey: "k", Data: data}})
		require.NoError(t, err)
	}
	// Nobody reads. The subscription's lifetime ends...
	clk.Advance(5*time.Minute + time.Second)
	// ...and with it the handler, blocked in a write.
	waitReturn(t, done, "a subscription that ended")
}

// TestClientsThatStopReadingTimeOut: a client that stops reading a large
// GetRecords response loses its connection after the write timeout.
func TestClientsThatStopReadingTimeOut(t *testing.T) {
	acct := newAccount(t)
	s, _ := acct.Stream(shardlog.StreamRef{StreamName: "s"})
	data := bytes.Repeat([]byte("x"), 64<<10)
	for i := 0; i < 64; i++ {
		_, err := s.PutBatch(ctx, []shardlog.PutInput{{PartitionKey: "k", Data: data}})
		require.NoError(t, err)
	}
	it, err := s.GetShardIterator(ctx, "shardId-000000000000", shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	require.NoError(t, err)
	h, done := returns(kinesisapi.NewHandler(acct, kinesisapi.WithWriteTimeout(50*time.Millisecond), kinesisapi.WithUnsignedRequests()))
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	defer srv.Close()
	body := `{"ShardIterator":"` + it + `"}`
	conn := rawRequest(t, srv.Listener.Addr().String(), "GetRecords", len(body), body)
	conn.(*net.TCPConn).SetReadBuffer(4096)
	waitReturn(t, done, "a client that does not read")
}

// TestCBORBodiesCostABoundedMultipleOfTheirBody: CBOR built to make the
// decoder allocate (long arrays and maps of empty items, deep nesting,
// lengths that promise more than the body holds) is refused within a small
// multiple of its size.
func TestCBORBodiesCostABoundedMultipleOfTheirBody(t *testing.T) {
	h := kinesisapi.NewHandler(newAccount(t), kinesisapi.WithUnsignedRequests())
	big := func(head []byte, item []byte, n int) []byte {
		b := append([]byte{}, head...)
		for i := 0; i < n; i++ {
			b = append(b, item...)
		}
		return b
	}
	const n = 4 << 20
	for _, tc := range []struct {
		name string
		body []byte
	}{
		// {"Records": [ {}, {}, ... ]} with an indefinite-length array.
		{"empty records", append(big([]byte{0xa1, 0x67, 'R', 'e', 'c', 'o', 'r', 'd', 's', 0x9f}, []byte{0xa0}, n), 0xff)},
		// A map of n empty-string keys.
		{"a long map", append(big([]byte{0xbf}, []byte{0x60, 0xf6}, n/2), 0xff)},
		{"deep nesting", big(nil, []byte{0x81}, n)},
		{"a length beyond the body", []byte{0xa1, 0x64, 'D', 'a', 't', 'a', 0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(tc.body))
			req.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecords")
			req.Header.Set("Content-Type", "application/x-amz-cbor-1.1")
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			runtime.ReadMemStats(&after)
			require.Equal(t, http.StatusBadRequest, rec.Code)
			require.Equal(t, "SerializationException", rec.Header().Get("X-Amzn-ErrorType"))
			allocated := after.TotalAlloc - before.TotalAlloc
			require.Less(t, allocated, uint64(3*len(tc.body))+1<<20, "allocated %d KiB for a %d KiB body", allocated>>10, len(tc.body)>>10)
		})
	}
}

// TestSlowClientsStarveOnlyThemselves: a client that opens many requests
// declaring large bodies and sends almost nothing holds memory only for
// what it sent, and at most its share: another client's requests are
// served at once, not after the slow ones time out.
func TestSlowClientsStarveOnlyThemselves(t *testing.T) {
	srv := httptest.NewServer(kinesisapi.NewHandler(newAccount(t),
		kinesisapi.WithMaxRequestMemory(2<<20), kinesisapi.WithMaxClientMemory(1<<20), kinesisapi.WithMaxRequestBytes(256<<10),
		kinesisapi.WithBodyTimeout(2*time.Second), kinesisapi.WithMinUploadRate(0, 0), kinesisapi.WithUnsignedRequests()))
	t.Cleanup(srv.Close) // after the slow connections close
	addr := srv.Listener.Addr().String()
	for range 16 { // from 127.0.0.1: each declares 256 KiB and sends 10 bytes
		rawRequest(t, addr, "PutRecords", 256<<10, `{"Records":`)
	}
	// Another client, on another loopback address.
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	for range 3 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{}`))
		req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
}

// TestBodiesMustKeepAMinimumPace: past the grace period, a body that
// arrives slower than the minimum rate gets 408, long before the body
// timeout.
func TestBodiesMustKeepAMinimumPace(t *testing.T) {
	srv := httptest.NewServer(kinesisapi.NewHandler(newAccount(t), kinesisapi.WithBodyTimeout(time.Hour),
		kinesisapi.WithMinUploadRate(1<<10, 20*time.Millisecond), kinesisapi.WithUnsignedRequests()))
	defer srv.Close()
	c := rawRequest(t, srv.Listener.Addr().String(), "ListStreams", 10000, `{"x":"`)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	require.Contains(t, string(b), "slower than 1024 bytes a second")
}
