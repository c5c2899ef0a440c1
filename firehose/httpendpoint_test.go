package firehose_test

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/firehose"
)

// endpoint is an HTTP endpoint as Firehose's delivery specification
// describes one; fail says how to answer each request before it is taken.
type endpoint struct {
	mu       sync.Mutex
	requests []*http.Request
	ids      []string
	stamps   []int64
	records  []string
	fail     func(n int) (status int, body string) // n counts requests from 0
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := len(e.requests)
	e.requests = append(e.requests, r)
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	var req struct {
		RequestID string `json:"requestId"`
		Timestamp int64  `json:"timestamp"`
		Records   []struct {
			Data []byte `json:"data"`
		} `json:"records"`
	}
	if err := json.NewDecoder(body).Decode(&req); err != nil || req.RequestID == "" || req.Timestamp == 0 {
		http.Error(w, "bad request body", http.StatusBadRequest)
		return
	}
	e.ids = append(e.ids, req.RequestID)
	e.stamps = append(e.stamps, req.Timestamp)
	if e.fail != nil {
		if status, msg := e.fail(n); status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(msg))
			return
		}
	}
	for _, rec := range req.Records {
		e.records = append(e.records, string(rec.Data))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"requestId": req.RequestID, "timestamp": time.Now().UnixMilli()})
}

func (e *endpoint) got() ([]string, []string, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.records...), append([]string(nil), e.ids...), len(e.requests)
}

// TestHTTPEndpoint: records reach the endpoint one by one, in order, with
// Firehose's headers, plain and gzipped.
func TestHTTPEndpoint(t *testing.T) {
	for _, enc := range []string{"NONE", "GZIP"} {
		t.Run(enc, func(t *testing.T) {
			e := &endpoint{}
			srv := httptest.NewServer(e)
			defer srv.Close()
			dest := &firehose.HTTPEndpoint{URL: srv.URL, AccessKey: "secret-key", CommonAttributes: map[string]string{"env": "test"},
				ContentEncoding: enc, SourceARN: "arn:aws:firehose:us-east-1:123456789012:deliverystream/orders"}
			r := newRig(t, firehose.Config{Destination: dest, Buffering: firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 0}}, 1)
			dest.Clock = r.clk
			r.run()
			put(t, r.d, "one", "two", "", "three")
			r.await(100*time.Millisecond, func() bool { return r.d.Totals().DeliveredRecords == 4 })
			records, _, n := e.got()
			require.Equal(t, []string{"one", "two", "", "three"}, records)
			require.Equal(t, 1, n)
			require.GreaterOrEqual(t, e.stamps[0], t0.UnixMilli(), "the timestamp is the clock's, not the wall's")
			require.LessOrEqual(t, e.stamps[0], r.clk.Now().UnixMilli())
			h := e.requests[0].Header
			require.Equal(t, "1.0", h.Get("X-Amz-Firehose-Protocol-Version"))
			require.Equal(t, "secret-key", h.Get("X-Amz-Firehose-Access-Key"))
			require.JSONEq(t, `{"commonAttributes":{"env":"test"}}`, h.Get("X-Amz-Firehose-Common-Attributes"))
			require.Equal(t, "arn:aws:firehose:us-east-1:123456789012:deliverystream/orders", h.Get("X-Amz-Firehose-Source-Arn"))
			require.Equal(t, "application/json", h.Get("Content-Type"))
			require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, h.Get("X-Amz-Firehose-Request-Id"))
		})
	}
}

// TestHTTPEndpointRetries: failures (a 500, a 200 that is not Firehose's
// JSON) are retried with the same request ID until the endpoint takes
// the records.
func TestHTTPEndpointRetries(t *testing.T) {
	e := &endpoint{fail: func(n int) (int, string) {
		switch n {
		case 0:
			return http.StatusInternalServerError, `{"requestId":"x","timestamp":1,"errorMessage":"busy"}`
		case 1:
			return http.StatusOK, `not json`
		}
		return 0, ""
	}}
	srv := httptest.NewServer(e)
	defer srv.Close()
	r := newRig(t, firehose.Config{Destination: &firehose.HTTPEndpoint{URL: srv.URL}, Buffering: firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 0}}, 1)
	r.run()
	put(t, r.d, "a", "b")
	r.await(time.Second, func() bool { return r.d.Totals().DeliveredRecords == 2 })
	records, ids, n := e.got()
	require.Equal(t, []string{"a", "b"}, records)
	require.Equal(t, 3, n)
	require.Equal(t, ids[0], ids[1], "a retry carries the first attempt's request ID")
	require.Equal(t, ids[0], ids[2])
}

// TestHTTPEndpointFailuresGoToBackup: an endpoint that fails for longer
// than the retry duration, or answers 413 (permanent, not retried), has
// its records written to the backup as Firehose's failure records, under
// http-endpoint-failed.
func TestHTTPEndpointFailuresGoToBackup(t *testing.T) {
	for name, status := range map[string]int{"500 past the retry duration": http.StatusInternalServerError, "413 at once": http.StatusRequestEntityTooLarge} {
		t.Run(name, func(t *testing.T) {
			e := &endpoint{fail: func(int) (int, string) {
				return status, `{"requestId":"x","timestamp":1,"errorMessage":"no room"}`
			}}
			srv := httptest.NewServer(e)
			defer srv.Close()
			backup := t.TempDir()
			r := newRig(t, firehose.Config{Destination: &firehose.HTTPEndpoint{URL: srv.URL}, Backup: firehose.Dir(backup),
				RetryDuration: time.Minute, Buffering: firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 0}}, 1)
			r.run()
			put(t, r.d, "a", "b")
			r.await(time.Second, func() bool { return r.d.Totals().BackedUp == 1 })
			_, _, n := e.got()
			if status == http.StatusRequestEntityTooLarge {
				require.Equal(t, 1, n, "a 413 is not retried")
			} else {
				require.Greater(t, n, 3)
			}
			objs := objects(t, backup)
			require.Len(t, objs, 1)
			for key, body := range objs {
				require.True(t, strings.HasPrefix(key, "http-endpoint-failed/2026/03/01/12/orders-1-"), key)
				lines := strings.Split(strings.TrimSpace(string(body)), "\n")
				require.Len(t, lines, 2)
				var f struct {
					ErrorCode    string `json:"errorCode"`
					ErrorMessage string `json:"errorMessage"`
					RawData      []byte `json:"rawData"`
					AttemptsMade int    `json:"attemptsMade"`
				}
				require.NoError(t, json.Unmarshal([]byte(lines[1]), &f))
				require.Equal(t, "HttpEndpoint.DestinationException", f.ErrorCode)
				require.Equal(t, "no room", f.ErrorMessage)
				require.Equal(t, "b", string(f.RawData))
				require.Equal(t, n, f.AttemptsMade)
			}
		})
	}
}
