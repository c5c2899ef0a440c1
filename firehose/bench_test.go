package firehose_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/firehose"
)

// benchRecords is what each benchmark delivers: 64 MiB of 1 KiB records.
const (
	benchRecord  = 1 << 10
	benchRecords = 64 << 10
	benchObject  = 5 << 20 // the default buffering size
)

// BenchmarkDeliverToDir puts 64 MiB of 1 KiB records into a direct-put
// delivery stream (4 shards, buffering 5 MiB or 1 s, GZIP off) and
// measures the time until all are delivered as files: MB/s, beside
// BenchmarkWriteFilesFloor. The account's clock is a manual one, moved on
// while the benchmark waits, so that the last partial objects go at once.
func BenchmarkDeliverToDir(b *testing.B) {
	benchDeliver(b, false, func(b *testing.B) firehose.Destination { return firehose.Dir(b.TempDir()) })
}

// BenchmarkDeliverFromStreamToDir is BenchmarkDeliverToDir with the
// records in the stream before the clock starts: delivery from a stream,
// as a KinesisStreamAsSource delivery stream does it, beside the floor.
func BenchmarkDeliverFromStreamToDir(b *testing.B) {
	benchDeliver(b, true, func(b *testing.B) firehose.Destination { return firehose.Dir(b.TempDir()) })
}

// BenchmarkDeliverToHTTPEndpoint is BenchmarkDeliverToDir to an HTTP
// endpoint on loopback that takes every request.
func BenchmarkDeliverToHTTPEndpoint(b *testing.B) {
	benchDeliver(b, false, func(b *testing.B) firehose.Destination {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var req struct {
				RequestID string `json:"requestId"`
			}
			_ = jsonDecode(r, &req)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"requestId":%q,"timestamp":1}`, req.RequestID)
		}))
		b.Cleanup(srv.Close)
		return &firehose.HTTPEndpoint{URL: srv.URL}
	})
}

// BenchmarkWriteFilesFloor is the floor BenchmarkDeliverToDir is measured
// against: writing the same bytes as 5 MiB files, each synced and renamed
// into place as Dir does.
func BenchmarkWriteFilesFloor(b *testing.B) {
	for range b.N {
		writeFloor(b)
	}
	b.ReportMetric(float64(benchRecords*benchRecord*b.N)/1e6/b.Elapsed().Seconds(), "MB/s")
}

// BenchmarkDeliveryVersusFloor times, in each round, the floor and then a
// delivery from a stream of the same bytes, and reports the delivery's
// throughput as a share of the floor's: the two measured side by side, so
// that the machine's drift between benchmarks does not move the ratio;
// each goes first in every other round.
func BenchmarkDeliveryVersusFloor(b *testing.B) {
	var floor, delivery time.Duration
	for i := range b.N {
		if i%2 == 1 { // each goes first as often as the other
			delivery += deliverOnce(b, true, firehose.Dir(b.TempDir()), nil)
		}
		start := time.Now()
		writeFloor(b)
		floor += time.Since(start)
		if i%2 == 0 {
			delivery += deliverOnce(b, true, firehose.Dir(b.TempDir()), nil)
		}
	}
	b.ReportMetric(100*floor.Seconds()/delivery.Seconds(), "%-of-floor")
}

func writeFloor(b *testing.B) {
	chunk := make([]byte, benchObject)
	d := firehose.Dir(b.TempDir())
	for i := 0; i < benchRecords*benchRecord/benchObject; i++ {
		if err := d.Put(context.Background(), fmt.Sprintf("f/%d", i), chunk); err != nil {
			b.Fatal(err)
		}
	}
}

func benchDeliver(b *testing.B, fromStream bool, dest func(*testing.B) firehose.Destination) {
	var objects int64
	b.ResetTimer()
	for range b.N {
		deliverOnce(b, fromStream, dest(b), &objects)
	}
	b.ReportMetric(float64(benchRecords*benchRecord*b.N)/1e6/b.Elapsed().Seconds(), "MB/s")
	b.ReportMetric(float64(objects)/float64(b.N), "objects/op")
}

// deliverOnce delivers 64 MiB of 1 KiB records to dest through a direct-put
// delivery stream (4 shards, buffering 5 MiB or 1 s) and returns how long
// it took, the puts included unless fromStream; the benchmark's timer runs
// only then. objects, if not nil, counts the objects delivered.
func deliverOnce(b *testing.B, fromStream bool, dest firehose.Destination, objects *int64) time.Duration {
	b.StopTimer()
	defer b.StartTimer()
	record := make([]byte, benchRecord)
	batch := make([][]byte, 500)
	for i := range batch {
		batch[i] = record
	}
	clk := shardlog.NewManualClock(t0) // the tail is flushed by moving it, not by waiting
	acct, err := shardlog.NewAccount(shardlog.WithClock(clk), shardlog.WithoutLimits(), shardlog.WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	defer acct.Close()
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "backing", ShardCount: 4})
	if err != nil {
		b.Fatal(err)
	}
	d, err := firehose.New(firehose.Config{Name: "bench", Source: s, DirectPut: true, Destination: dest, Logger: quiet,
		Buffering: firehose.BufferingHints{SizeInMBs: 5, IntervalInSeconds: 1}})
	if err != nil {
		b.Fatal(err)
	}
	run, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	put := func() {
		for n := 0; n < benchRecords; n += len(batch) {
			if _, err := d.PutRecordBatch(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
	}
	if fromStream {
		put()
	}
	b.StartTimer()
	start := time.Now()
	go func() { done <- d.Run(run) }()
	if !fromStream {
		put()
	}
	// Objects go by size; once delivery stalls, only partial buffers
	// are left, and moving the clock past the interval sends them.
	for last, still := int64(-1), 0; ; {
		n := d.Totals().DeliveredRecords
		if n >= benchRecords {
			break
		}
		if n == last {
			still++
		} else {
			last, still = n, 0
		}
		if still == 3 {
			clk.Advance(time.Second)
			still = 0
		}
		waitBriefly()
	}
	took := time.Since(start)
	b.StopTimer()
	if objects != nil {
		*objects += d.Totals().Objects
	}
	stop()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return took
}

// clockedDestination notes, for each record (its data the put's clock
// time, in nanoseconds, and a newline), how long it took to be delivered
// on the clock.
type clockedDestination struct {
	clk  *shardlog.ManualClock
	mu   sync.Mutex
	ages []time.Duration
}

func (c *clockedDestination) Put(_ context.Context, _ string, body []byte) error {
	now := c.clk.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		ns, err := strconv.ParseInt(line, 10, 64)
		if err != nil {
			return err
		}
		c.ages = append(c.ages, now.Sub(time.Unix(0, ns)))
	}
	return nil
}

// BenchmarkFreshness puts a record every 100 ms of the account's clock for
// ten minutes into a delivery stream buffering 60 s (and 5 MiB), and
// reports the p50 and p99 of the time from put to delivery, on the clock:
// Firehose delivers a buffer at its interval; the target is within a
// second of it.
func BenchmarkFreshness(b *testing.B) {
	for range b.N {
		clk := shardlog.NewManualClock(t0)
		acct, err := shardlog.NewAccount(shardlog.WithClock(clk), shardlog.WithoutLimits(), shardlog.WithLogger(quiet))
		if err != nil {
			b.Fatal(err)
		}
		s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "backing", ShardCount: 1})
		if err != nil {
			b.Fatal(err)
		}
		dest := &clockedDestination{clk: clk}
		d, err := firehose.New(firehose.Config{Name: "fresh", Source: s, DirectPut: true, Destination: dest, Logger: quiet,
			Buffering: firehose.BufferingHints{SizeInMBs: 5, IntervalInSeconds: 60}})
		if err != nil {
			b.Fatal(err)
		}
		run, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- d.Run(run) }()
		const puts = 6000
		for i := range puts {
			if _, err := d.PutRecord(ctx, []byte(strconv.FormatInt(clk.Now().UnixNano(), 10)+"\n")); err != nil {
				b.Fatal(err)
			}
			clk.Advance(100 * time.Millisecond)
			if i%10 == 0 {
				time.Sleep(200 * time.Microsecond) // let the worker keep up in real time
			}
		}
		for d.Totals().DeliveredRecords < puts {
			clk.Advance(100 * time.Millisecond)
			time.Sleep(200 * time.Microsecond)
		}
		stop()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		acct.Close()
		slices.Sort(dest.ages)
		b.ReportMetric(dest.ages[len(dest.ages)/2].Seconds(), "p50-s")
		b.ReportMetric(dest.ages[len(dest.ages)*99/100].Seconds(), "p99-s")
	}
}
