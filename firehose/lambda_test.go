package firehose_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/firehose"
)

// fakeLambda serves Firehose's transformation contract as the Lambda
// Runtime Interface Emulator does: the event in, the function's answer
// out. It upper-cases records, drops "drop", and fails on "crash".
func fakeLambda(t *testing.T, invocations *atomic.Int64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "/2015-03-31/functions/function/invocations", r.URL.Path)
		var ev struct {
			InvocationID      string `json:"invocationId"`
			DeliveryStreamArn string `json:"deliveryStreamArn"`
			Region            string `json:"region"`
			Records           []struct {
				RecordID string `json:"recordId"`
				Data     []byte `json:"data"`
				Meta     *struct {
					ShardID string `json:"shardId"`
				} `json:"kinesisRecordMetadata"`
			} `json:"records"`
		}
		require.NoError(t, json.NewDecoder(r.Body).Decode(&ev))
		invocations.Add(1)
		require.NotEmpty(t, ev.InvocationID)
		require.Equal(t, "arn:aws:firehose:us-east-1:123456789012:deliverystream/orders", ev.DeliveryStreamArn)
		require.Equal(t, "us-east-1", ev.Region)
		type result struct {
			RecordID string         `json:"recordId"`
			Result   string         `json:"result"`
			Data     []byte         `json:"data,omitempty"`
			Metadata map[string]any `json:"metadata,omitempty"`
		}
		var out []result
		for _, rec := range ev.Records {
			require.Nil(t, rec.Meta, "no Kinesis metadata for a direct-put source")
			switch string(rec.Data) {
			case "crash\n":
				_ = json.NewEncoder(w).Encode(map[string]string{"errorMessage": "boom", "errorType": "Error"})
				return
			case "drop\n":
				out = append(out, result{RecordID: rec.RecordID, Result: "Dropped"})
			default:
				out = append(out, result{RecordID: rec.RecordID, Result: "Ok", Data: bytes.ToUpper(rec.Data)})
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"records": out})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestLambdaProcessor: a function served over HTTP in Lambda's local
// invocation protocol transforms records; batches are split by
// BufferSizeInMBs; a function error fails its records to the error output.
func TestLambdaProcessor(t *testing.T) {
	var calls atomic.Int64
	fn := fakeLambda(t, &calls)
	l := &firehose.Lambda{URL: fn.URL + "/2015-03-31/functions/function/invocations", FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:up",
		DeliveryStreamARN: "arn:aws:firehose:us-east-1:123456789012:deliverystream/orders", Region: "us-east-1", BufferSizeInMBs: 0.2}
	r := newRig(t, firehose.Config{Processor: l.Process, ProcessorARN: l.FunctionARN, Prefix: "out/",
		Buffering: firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 60}}, 1)
	r.run()
	big := strings.Repeat("x", 100_000) + "\n"
	put(t, r.d, "one\n", "drop\n", big, big, big, "two\n")
	r.await(time.Second, func() bool { return r.d.Totals().DeliveredRecords == 5 })
	var body string
	for _, b := range objects(t, r.dir) {
		body += string(b)
	}
	up := strings.ToUpper(big)
	require.Equal(t, "ONE\n"+up+up+up+"TWO\n", body)
	require.GreaterOrEqual(t, calls.Load(), int64(2), "300 KB in invocations of 200 KB")

	put(t, r.d, "crash\n")
	var failed string
	r.await(time.Second, func() bool {
		for key, b := range objects(t, r.dir) {
			if strings.HasPrefix(key, "bucket/out/processing-failed/") {
				failed = string(b)
			}
		}
		return failed != ""
	})
	require.Contains(t, failed, `"errorCode":"Lambda.FunctionError"`)
	require.Contains(t, failed, "boom")
	require.Contains(t, failed, `"attemptsMade":4`)
}
