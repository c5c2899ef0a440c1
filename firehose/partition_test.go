package firehose_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/firehose"
)

// TestPartitionsByQuery: records go to the object of their keys, in
// order; records whose keys cannot be had go to the error output with
// Firehose's error code; the prefix gets no default timestamp.
func TestPartitionsByQuery(t *testing.T) {
	r := newRig(t, firehose.Config{
		Partitioning:      &firehose.Partitioning{Query: `{customer: .customer.id, "kind": .["event-kind"]}`},
		Prefix:            "by/customer=!{partitionKeyFromQuery:customer}/kind=!{partitionKeyFromQuery:kind}/",
		ErrorOutputPrefix: "errors/!{firehose:error-output-type}/",
		AppendNewline:     true,
		Buffering:         firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 60},
	}, 2)
	r.run()
	put(t, r.d,
		`{"customer":{"id":"a"},"event-kind":"click","n":1}`,
		`{"customer":{"id":7},"event-kind":"view","n":2}`,
		`{"customer":{"id":"a"},"event-kind":"click","n":3}`,
		`not json`,
		`{"customer":{},"event-kind":"click"}`,
		`{"customer":{"id":"a/../../x"},"event-kind":"click"}`,
		`{"customer":{"id":12345678901234567890},"event-kind":true,"n":4}`,
	)
	r.await(time.Second, func() bool { return r.d.Totals().DeliveredRecords == 4 && r.d.Totals().ProcessingFailed == 3 })
	got := map[string][]string{}
	var failures []string
	for key, body := range objects(t, r.dir) {
		dir := key[:strings.LastIndexByte(key, '/')+1]
		if strings.HasPrefix(key, "bucket/errors/processing-failed/") {
			for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
				var f struct {
					ErrorCode string `json:"errorCode"`
					RawData   []byte `json:"rawData"`
				}
				require.NoError(t, json.Unmarshal([]byte(line), &f))
				require.Equal(t, "DynamicPartitioning.MetadataExtractionFailed", f.ErrorCode)
				failures = append(failures, string(f.RawData))
			}
			continue
		}
		require.Regexp(t, `/orders-1-2026-03-01-12-\d\d-\d\d-[0-9a-f-]{36}$`, key)
		for _, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
			var rec struct{ N int }
			require.NoError(t, json.Unmarshal([]byte(line), &rec))
			got[dir] = append(got[dir], line)
		}
	}
	for dir := range got {
		sort.Strings(got[dir]) // two shards: order holds within a partition and shard only
	}
	require.Equal(t, map[string][]string{
		"bucket/by/customer=a/kind=click/":                   {`{"customer":{"id":"a"},"event-kind":"click","n":1}`, `{"customer":{"id":"a"},"event-kind":"click","n":3}`},
		"bucket/by/customer=7/kind=view/":                    {`{"customer":{"id":7},"event-kind":"view","n":2}`},
		"bucket/by/customer=12345678901234567890/kind=true/": {`{"customer":{"id":12345678901234567890},"event-kind":true,"n":4}`},
	}, got)
	sort.Strings(failures)
	require.Equal(t, []string{`not json`, `{"customer":{"id":"a/../../x"},"event-kind":"click"}`, `{"customer":{},"event-kind":"click"}`}, failures)
}

// TestPartitionsFromProcessor: a Processor's partition keys fill
// !{partitionKeyFromLambda:…}; a record it gives no key fails; past
// MaxPartitions records fail too.
func TestPartitionsFromProcessor(t *testing.T) {
	byFirstWord := func(_ context.Context, recs []firehose.ProcessorRecord) ([]firehose.ProcessorResult, error) {
		var out []firehose.ProcessorResult
		for _, r := range recs {
			res := firehose.ProcessorResult{RecordID: r.RecordID, Result: firehose.Ok, Data: r.Data}
			if word, _, ok := strings.Cut(string(r.Data), " "); ok {
				res.PartitionKeys = map[string]string{"word": word}
			}
			out = append(out, res)
		}
		return out, nil
	}
	r := newRig(t, firehose.Config{
		Processor:         byFirstWord,
		Partitioning:      &firehose.Partitioning{MaxPartitions: 2},
		Prefix:            "!{partitionKeyFromLambda:word}/",
		ErrorOutputPrefix: "errors/!{firehose:error-output-type}/",
		Buffering:         firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 60},
	}, 1)
	r.run()
	put(t, r.d, "a 1\n", "b 2\n", "a 3\n", "nokey\n", "c 4\n")
	r.await(time.Second, func() bool { return r.d.Totals().DeliveredRecords == 3 && r.d.Totals().ProcessingFailed == 2 })
	bodies := map[string]string{}
	for key, body := range objects(t, r.dir) {
		bodies[key[:strings.IndexByte(key[len("bucket/"):], '/')+len("bucket/")]] += string(body)
	}
	require.Equal(t, "a 1\na 3\n", bodies["bucket/a"])
	require.Equal(t, "b 2\n", bodies["bucket/b"])
	require.Contains(t, bodies["bucket/errors"], `"errorCode":"DynamicPartitioning.MetadataExtractionFailed"`)
	require.Contains(t, bodies["bucket/errors"], `"errorCode":"DynamicPartitioning.ActivePartitionsExceeded"`)
}

// TestPartitioningRefusals: Firehose's rules for dynamic partitioning,
// and a query shardlog cannot read, are InvalidArgument naming the
// problem (and, for a query, the position).
func TestPartitioningRefusals(t *testing.T) {
	acct, err := shardlog.NewAccount()
	require.NoError(t, err)
	defer acct.Close()
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: 1})
	require.NoError(t, err)
	ok := firehose.Config{Name: "d", Source: s, Destination: firehose.Dir(t.TempDir()),
		Partitioning: &firehose.Partitioning{Query: "{k: .k}"}, Prefix: "!{partitionKeyFromQuery:k}/", ErrorOutputPrefix: "e/!{firehose:error-output-type}/",
		Buffering: firehose.BufferingHints{SizeInMBs: 64, IntervalInSeconds: 60}}
	_, err = firehose.New(ok)
	require.NoError(t, err)
	for want, change := range map[string]func(*firehose.Config){
		"ErrorOutputPrefix is required":     func(c *firehose.Config) { c.ErrorOutputPrefix = "" },
		"Prefix must have a !{partitionKey": func(c *firehose.Config) { c.Prefix = "p/" },
		"which the query does not extract":  func(c *firehose.Config) { c.Prefix = "!{partitionKeyFromQuery:other}/" },
		"needs a Processor":                 func(c *firehose.Config) { c.Prefix = "!{partitionKeyFromLambda:k}/" },
		"over zero seconds":                 func(c *firehose.Config) { c.Buffering.IntervalInSeconds = 0 },
		"an HTTP endpoint": func(c *firehose.Config) {
			c.Destination = &firehose.HTTPEndpoint{URL: "http://127.0.0.1:1", Client: http.DefaultClient}
		},
		"ErrorOutputPrefix cannot have": func(c *firehose.Config) {
			c.ErrorOutputPrefix = "e/!{partitionKeyFromQuery:k}/!{firehose:error-output-type}/"
		},
		`"{k: .k | tostring}": at 8`:              func(c *firehose.Config) { c.Partitioning = &firehose.Partitioning{Query: "{k: .k | tostring}"} },
		`"{k .k}": at 4: a ':' must follow`:       func(c *firehose.Config) { c.Partitioning = &firehose.Partitioning{Query: "{k .k}"} },
		`"{k: 1}": at 5: a key's value is a path`: func(c *firehose.Config) { c.Partitioning = &firehose.Partitioning{Query: "{k: 1}"} },
		`the key "k" is given twice`:              func(c *firehose.Config) { c.Partitioning = &firehose.Partitioning{Query: "{k: .a, k: .b}"} },
		"MaxPartitions -1":                        func(c *firehose.Config) { c.Partitioning = &firehose.Partitioning{Query: "{k: .k}", MaxPartitions: -1} },
	} {
		c := ok
		change(&c)
		_, err := firehose.New(c)
		require.ErrorIs(t, err, firehose.ErrInvalidArgument, want)
		require.ErrorContains(t, err, want)
	}
}
