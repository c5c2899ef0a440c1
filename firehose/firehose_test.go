package firehose_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/firehose"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	ctx   = context.Background()
	quiet = slog.New(slog.DiscardHandler)
	t0    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// rig is a direct-put delivery stream over an embedded stream, on a
// manual clock, delivering to a directory.
type rig struct {
	t    *testing.T
	clk  *shardlog.ManualClock
	acct *shardlog.Account
	s    *shardlog.Stream
	dir  string
	d    *firehose.DeliveryStream
	stop func()
}

func newRig(t *testing.T, cfg firehose.Config, shards int) *rig {
	t.Helper()
	clk := shardlog.NewManualClock(t0)
	acct, err := shardlog.NewAccount(shardlog.WithClock(clk), shardlog.WithoutLimits(), shardlog.WithLogger(quiet))
	require.NoError(t, err)
	t.Cleanup(func() { acct.Close() })
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "firehose-orders", ShardCount: shards})
	require.NoError(t, err)
	r := &rig{t: t, clk: clk, acct: acct, s: s, dir: t.TempDir()}
	if cfg.Name == "" {
		cfg.Name = "orders"
	}
	if cfg.Source == nil {
		cfg.Source, cfg.DirectPut = s, true
	}
	if cfg.Destination == nil {
		cfg.Destination = firehose.Dir(filepath.Join(r.dir, "bucket"))
	}
	cfg.Logger = quiet
	r.d, err = firehose.New(cfg)
	require.NoError(t, err)
	return r
}

// run runs the delivery stream until the test ends (or stop).
func (r *rig) run() {
	c, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.d.Run(c) }()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			require.NoError(r.t, <-done)
		})
	}
	r.t.Cleanup(r.stop)
}

// await advances the clock a step at a time until cond holds.
func (r *rig) await(step time.Duration, cond func() bool) {
	r.t.Helper()
	require.Eventually(r.t, func() bool {
		if cond() {
			return true
		}
		r.clk.Advance(step)
		return false
	}, 20*time.Second, time.Millisecond)
}

// objects returns the files under dir, by key, read whole.
func objects(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	_ = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			return nil
		}
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	return out
}

func put(t *testing.T, d *firehose.DeliveryStream, records ...string) {
	t.Helper()
	var in [][]byte
	for _, r := range records {
		in = append(in, []byte(r))
	}
	out, err := d.PutRecordBatch(ctx, in)
	require.NoError(t, err)
	require.Zero(t, out.FailedPutCount)
	require.Len(t, out.RequestResponses, len(records))
	for _, e := range out.RequestResponses {
		require.NotEmpty(t, e.RecordID)
	}
}

// TestDeliversByIntervalAndSize: records wait for the buffering interval,
// or go at once when a shard has buffered the size; objects are named as
// Firehose names its S3 objects and hold the records in order.
func TestDeliversByIntervalAndSize(t *testing.T) {
	r := newRig(t, firehose.Config{Buffering: firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 60}}, 1)
	r.run()
	put(t, r.d, "a\n", "b\n", "c\n")
	r.await(time.Millisecond, func() bool { return r.d.Totals().DataFreshness > 0 }) // buffered
	r.clk.Advance(30 * time.Second)
	require.Empty(t, objects(t, r.dir), "the interval has not passed")
	require.GreaterOrEqual(t, r.d.Totals().DataFreshness, 30*time.Second, "the age of the oldest record not delivered")
	r.await(time.Second, func() bool { return len(objects(t, r.dir)) == 1 })
	objs := objects(t, r.dir)
	for key, body := range objs {
		require.Regexp(t, `^bucket/2026/03/01/12/orders-1-2026-03-01-12-00-00-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, key)
		require.Equal(t, "a\nb\nc\n", string(body))
	}

	big := strings.Repeat("x", 600<<10) + "\n"
	put(t, r.d, big)
	put(t, r.d, big) // past 1 MiB: delivered without waiting
	r.await(time.Millisecond, func() bool { return r.d.Totals().Objects == 2 })
	require.Len(t, objects(t, r.dir), 2)
	r.await(time.Millisecond, func() bool { return r.d.Totals().DataFreshness == 0 })
	require.Equal(t, firehose.Totals{IncomingRecords: 5, IncomingBytes: int64(6 + 2*len(big)), DeliveredRecords: 5,
		DeliveredBytes: int64(6 + 2*len(big)), Objects: 2}, r.d.Totals())
}

// TestKinesisSourceStartsAtCreation: a delivery stream reading a Kinesis
// stream delivers what arrives after it was made, and refuses direct puts.
func TestKinesisSourceStartsAtCreation(t *testing.T) {
	clk := shardlog.NewManualClock(t0)
	acct, err := shardlog.NewAccount(shardlog.WithClock(clk), shardlog.WithoutLimits(), shardlog.WithLogger(quiet))
	require.NoError(t, err)
	defer acct.Close()
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "clicks", ShardCount: 2})
	require.NoError(t, err)
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("before\n")})
	require.NoError(t, err)
	clk.Advance(time.Second)
	dir := t.TempDir()
	d, err := firehose.New(firehose.Config{Name: "clicks", Source: s, Destination: firehose.Dir(dir), Logger: quiet,
		Buffering: firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 0}})
	require.NoError(t, err)
	_, err = d.PutRecord(ctx, []byte("x"))
	require.ErrorIs(t, err, firehose.ErrInvalidArgument)

	c, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(c) }()
	clk.Advance(time.Second)
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("after\n")})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		clk.Advance(100 * time.Millisecond)
		return len(objects(t, dir)) == 1
	}, 20*time.Second, time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	for _, body := range objects(t, dir) {
		require.Equal(t, "after\n", string(body))
	}
}

// TestProcessor: a Processor under Lambda's contract transforms records
// (Ok), drops them, or fails them to the error output in Firehose's
// processing-failed format; a record it forgets fails too.
func TestProcessor(t *testing.T) {
	upper := func(_ context.Context, recs []firehose.ProcessorRecord) ([]firehose.ProcessorResult, error) {
		var out []firehose.ProcessorResult
		for _, r := range recs {
			switch string(r.Data) {
			case "drop\n":
				out = append(out, firehose.ProcessorResult{RecordID: r.RecordID, Result: firehose.Dropped})
			case "bad\n":
				out = append(out, firehose.ProcessorResult{RecordID: r.RecordID, Result: firehose.ProcessingFailedResult})
			case "forget\n":
			default:
				out = append(out, firehose.ProcessorResult{RecordID: r.RecordID, Result: firehose.Ok, Data: bytes.ToUpper(r.Data)})
			}
		}
		return out, nil
	}
	r := newRig(t, firehose.Config{Processor: upper, ProcessorARN: "arn:aws:lambda:us-east-1:123456789012:function:upper",
		Prefix: "out/", Buffering: firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 0}}, 1)
	r.run()
	put(t, r.d, "one\n", "drop\n", "bad\n", "forget\n", "two\n")
	r.await(100*time.Millisecond, func() bool { return len(objects(t, r.dir)) == 2 })
	var good, failed []byte
	for key, body := range objects(t, r.dir) {
		switch {
		case strings.HasPrefix(key, "bucket/out/processing-failed/2026/03/01/12/orders-1-"):
			failed = body
		case strings.HasPrefix(key, "bucket/out/2026/03/01/12/orders-1-"):
			good = body
		default:
			t.Fatalf("unexpected key %s", key)
		}
	}
	require.Equal(t, "ONE\nTWO\n", string(good))
	lines := strings.Split(strings.TrimSpace(string(failed)), "\n")
	require.Len(t, lines, 2)
	codes := map[string]string{}
	for _, l := range lines {
		var f struct {
			AttemptsMade     int    `json:"attemptsMade"`
			ArrivalTimestamp int64  `json:"arrivalTimestamp"`
			ErrorCode        string `json:"errorCode"`
			RawData          []byte `json:"rawData"`
			LambdaARN        string `json:"lambdaArn"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &f))
		require.Equal(t, 1, f.AttemptsMade)
		require.Equal(t, t0.UnixMilli(), f.ArrivalTimestamp)
		require.Equal(t, "arn:aws:lambda:us-east-1:123456789012:function:upper", f.LambdaARN)
		codes[string(f.RawData)] = f.ErrorCode
	}
	require.Equal(t, map[string]string{"bad\n": "Lambda.ProcessingFailedStatus", "forget\n": "Lambda.MissingRecordId"}, codes)
	require.Equal(t, int64(2), r.d.Totals().ProcessingFailed)
}

// TestProcessorGetsCopies: a Processor that changes its records' data in
// place changes what it delivers, never the records the stream holds.
func TestProcessorGetsCopies(t *testing.T) {
	inPlace := func(_ context.Context, recs []firehose.ProcessorRecord) ([]firehose.ProcessorResult, error) {
		out := make([]firehose.ProcessorResult, len(recs))
		for i, r := range recs {
			copy(r.Data, "XX")
			out[i] = firehose.ProcessorResult{RecordID: r.RecordID, Result: firehose.Ok, Data: r.Data}
		}
		return out, nil
	}
	r := newRig(t, firehose.Config{Processor: inPlace, Buffering: firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 0}}, 1)
	r.run()
	put(t, r.d, "abc\n")
	r.await(100*time.Millisecond, func() bool { return r.d.Totals().DeliveredRecords == 1 })
	for _, body := range objects(t, r.dir) {
		require.Equal(t, "XXc\n", string(body))
	}
	for rec, err := range r.s.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		require.NoError(t, err)
		require.Equal(t, "abc\n", string(rec.Data), "the stream's record is untouched")
	}
}

// flaky is a Destination that fails while down.
type flaky struct {
	mu   sync.Mutex
	down bool
	dir  firehose.Dir
	puts int
}

func (f *flaky) Put(ctx context.Context, key string, body []byte) error {
	f.mu.Lock()
	f.puts++
	down := f.down
	f.mu.Unlock()
	if down {
		return errors.New("destination down")
	}
	return f.dir.Put(ctx, key, body)
}

func (f *flaky) set(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func (f *flaky) attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.puts
}

// TestFailedDeliveryGoesToBackup: a destination that fails for longer than
// the retry duration has the object go to the backup, under the error
// output prefix; nothing is dropped.
func TestFailedDeliveryGoesToBackup(t *testing.T) {
	backup := t.TempDir()
	dest := &flaky{down: true}
	r := newRig(t, firehose.Config{Destination: dest, Backup: firehose.Dir(backup), RetryDuration: time.Minute,
		Buffering: firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 0}}, 1)
	dest.dir = firehose.Dir(filepath.Join(r.dir, "bucket"))
	r.run()
	put(t, r.d, "a\n")
	r.await(time.Second, func() bool { return r.d.Totals().BackedUp == 1 })
	require.Len(t, objects(t, backup), 1)
	require.Greater(t, dest.attempts(), 3, "retried with backoff first")
	for key, body := range objects(t, backup) {
		require.Regexp(t, `^delivery-failed/2026/03/01/12/orders-1-`, key)
		require.Equal(t, "a\n", string(body))
	}
}

// TestFailedDeliveryWaitsWithoutBackup: with no backup, a failing
// destination is retried until it takes the object; a restart meanwhile
// reads the records again, since they were not checkpointed.
func TestFailedDeliveryWaitsWithoutBackup(t *testing.T) {
	dest := &flaky{down: true}
	r := newRig(t, firehose.Config{Destination: dest, RetryDuration: time.Minute,
		Buffering: firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 0}}, 1)
	dest.dir = firehose.Dir(filepath.Join(r.dir, "bucket"))
	r.run()
	put(t, r.d, "a\n", "b\n")
	r.await(time.Second, func() bool { return dest.attempts() > 8 })
	r.stop()
	require.Empty(t, objects(t, r.dir))

	dest.set(false)
	r.run()
	r.await(100*time.Millisecond, func() bool { return len(objects(t, r.dir)) == 1 })
	for _, body := range objects(t, r.dir) {
		require.Equal(t, "a\nb\n", string(body))
	}
}

// TestGZIP: objects are compressed, named .gz.
func TestGZIP(t *testing.T) {
	r := newRig(t, firehose.Config{Compression: firehose.GZIP, Buffering: firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 0}}, 1)
	r.run()
	put(t, r.d, "zipped\n")
	r.await(100*time.Millisecond, func() bool { return len(objects(t, r.dir)) == 1 })
	for key, body := range objects(t, r.dir) {
		require.True(t, strings.HasSuffix(key, ".gz"), key)
		zr, err := gzip.NewReader(bytes.NewReader(body))
		require.NoError(t, err)
		b, err := io.ReadAll(zr)
		require.NoError(t, err)
		require.Equal(t, "zipped\n", string(b))
	}
}

// TestManyShards: every record put into a stream of several shards is
// delivered, each once.
func TestManyShards(t *testing.T) {
	r := newRig(t, firehose.Config{Buffering: firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 10}}, 4)
	r.run()
	var want []string
	for i := range 1000 {
		want = append(want, strings.Repeat("r", i%7)+time.Duration(i).String()+"\n")
	}
	for i := 0; i < len(want); i += 250 {
		put(t, r.d, want[i:i+250]...)
	}
	r.await(time.Second, func() bool { return r.d.Totals().DeliveredRecords == 1000 })
	var got []string
	for _, body := range objects(t, r.dir) {
		got = append(got, strings.SplitAfter(string(body), "\n")...)
	}
	got = slices.DeleteFunc(got, func(s string) bool { return s == "" })
	require.ElementsMatch(t, want, got)
}

// TestDirectPutLimits: Firehose's limits on PutRecord and PutRecordBatch.
func TestDirectPutLimits(t *testing.T) {
	r := newRig(t, firehose.Config{}, 1)
	_, err := r.d.PutRecord(ctx, make([]byte, firehose.MaxRecordBytes+1))
	require.ErrorIs(t, err, shardlog.ErrValidation)
	out, err := r.d.PutRecord(ctx, make([]byte, firehose.MaxRecordBytes))
	require.NoError(t, err)
	require.NotEmpty(t, out.RecordID)
	_, err = r.d.PutRecordBatch(ctx, nil)
	require.ErrorIs(t, err, shardlog.ErrValidation)
	_, err = r.d.PutRecordBatch(ctx, make([][]byte, 501))
	require.ErrorIs(t, err, shardlog.ErrValidation)
	five := [][]byte{make([]byte, 1e6), make([]byte, 1e6), make([]byte, 1e6), make([]byte, 1e6), make([]byte, 200e3)} // 4.2 MB
	_, err = r.d.PutRecordBatch(ctx, five)
	require.ErrorIs(t, err, firehose.ErrInvalidArgument)
	require.ErrorContains(t, err, "4 MiB")
	require.Equal(t, int64(1), r.d.Totals().IncomingRecords, "nothing of a refused batch was taken")
}

// TestConfigRefusals: bad configurations are InvalidArgument, naming what
// is wrong.
func TestConfigRefusals(t *testing.T) {
	acct, err := shardlog.NewAccount()
	require.NoError(t, err)
	defer acct.Close()
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: 1})
	require.NoError(t, err)
	ok := firehose.Config{Name: "d", Source: s, Destination: firehose.Dir(t.TempDir())}
	for want, change := range map[string]func(*firehose.Config){
		"DeliveryStreamName":            func(c *firehose.Config) { c.Name = "bad name" },
		"needs a Source":                func(c *firehose.Config) { c.Source = nil },
		"needs a Destination":           func(c *firehose.Config) { c.Destination = nil },
		"SizeInMBs 129":                 func(c *firehose.Config) { c.Buffering = firehose.BufferingHints{SizeInMBs: 129, IntervalInSeconds: 60} },
		"IntervalInSeconds 901":         func(c *firehose.Config) { c.Buffering = firehose.BufferingHints{SizeInMBs: 5, IntervalInSeconds: 901} },
		`CompressionFormat "ZSTD"`:      func(c *firehose.Config) { c.Compression = "ZSTD" },
		"DurationInSeconds":             func(c *firehose.Config) { c.RetryDuration = 3 * time.Hour },
		"ErrorOutputPrefix cannot be":   func(c *firehose.Config) { c.Prefix = "p/!{timestamp:yyyy}/" },
		"must contain !{firehose:error": func(c *firehose.Config) { c.ErrorOutputPrefix = "e/!{timestamp:yyyy}/" },
		"dynamic partitioning": func(c *firehose.Config) {
			c.Prefix = "!{partitionKeyFromQuery:id}/"
			c.ErrorOutputPrefix = "!{firehose:error-output-type}/"
		},
		`"EEE"`: func(c *firehose.Config) {
			c.Prefix = "!{timestamp:EEE}/"
			c.ErrorOutputPrefix = "!{firehose:error-output-type}/"
		},
		"not closed":                    func(c *firehose.Config) { c.Prefix = "!{timestamp:yyyy" },
		"which the destination refuses": func(c *firehose.Config) { c.Prefix = "../outside/" },
		`ErrorOutputPrefix "/abs/"`:     func(c *firehose.Config) { c.ErrorOutputPrefix = "/abs/" },
		"is not one of":                 func(c *firehose.Config) { c.Prefix = "!{firehose:error-output-type}" },
	} {
		c := ok
		change(&c)
		_, err := firehose.New(c)
		require.ErrorIs(t, err, firehose.ErrInvalidArgument, want)
		require.ErrorContains(t, err, want)
	}
	_, err = firehose.New(ok)
	require.NoError(t, err)
}

// TestPrefixExpressions: a prefix's timestamp (the oldest record's
// arrival, UTC, Java's pattern letters), its random string, and the
// error output prefix's type.
func TestPrefixExpressions(t *testing.T) {
	fail := func(_ context.Context, recs []firehose.ProcessorRecord) ([]firehose.ProcessorResult, error) {
		return nil, errors.New("boom")
	}
	r := newRig(t, firehose.Config{Processor: fail,
		Prefix:            "logs/!{timestamp:yyyy'-w'DDD}/!{firehose:random-string}/",
		ErrorOutputPrefix: "errors/!{firehose:error-output-type}/!{timestamp:yy/MM/dd/HH/mm/ss}/",
		Buffering:         firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 0}}, 1)
	r.run()
	put(t, r.d, "x\n")
	r.await(100*time.Millisecond, func() bool { return len(objects(t, r.dir)) == 1 })
	for key, body := range objects(t, r.dir) {
		require.Regexp(t, regexp.MustCompile(`^bucket/errors/processing-failed/26/03/01/12/00/00/orders-1-2026-03-01-12-00-00-`), key)
		require.Contains(t, string(body), `"errorCode":"Lambda.FunctionError"`)
		require.Contains(t, string(body), `"attemptsMade":4`)
	}
}
