package shardlog_test

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
)

// BenchmarkRetentionSoak writes 20 M records of 100 B through 4 shards with
// the clock advancing a minute per 10 000 records (about 33 simulated
// hours), with 24-hour retention and with retention too long to expire
// anything. It reports Put throughput and the live heap, measured after a
// GC every simulated hour (outside the timed puts): after the first
// simulated day, its peak, its largest value after that day relative to
// the first-day value (steady state), and at the end. Each run starts with
// the heap returned to the OS, so neither variant reuses pages the other
// faulted in.
func BenchmarkRetentionSoak(b *testing.B) {
	for _, tc := range []struct {
		name      string
		retention time.Duration
	}{{"retention=24h", 24 * time.Hour}, {"retention=none", shardlog.MaxRetention}} {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				soak(b, tc.retention)
			}
		})
	}
}

func soak(b *testing.B, retention time.Duration) {
	const records, perMinute = 20_000_000, 10_000
	clk := shardlog.NewManualClock(t0)
	s, err := shardlog.NewStream("soak", 4, shardlog.WithClock(clk), shardlog.WithoutLimits(), shardlog.WithRetention(retention))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	keys := benchKeys()
	data := make([]byte, 100)
	live := func() float64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return float64(m.HeapAlloc)
	}
	debug.FreeOSMemory()
	var day1, peak, steady float64
	var paused time.Duration
	start := time.Now()
	for n := 0; n < records; n++ {
		if _, err := s.Put(ctx, shardlog.PutInput{PartitionKey: keys[n&1023], Data: data}); err != nil {
			b.Fatal(err)
		}
		if n%perMinute == perMinute-1 {
			clk.Advance(time.Minute)
			if minute := (n + 1) / perMinute; minute%60 == 0 {
				pause := time.Now()
				h := live()
				paused += time.Since(pause)
				peak = max(peak, h)
				switch {
				case minute == 24*60:
					day1 = h
				case minute > 24*60:
					steady = max(steady, h)
				}
			}
		}
	}
	elapsed := time.Since(start) - paused
	b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
	b.ReportMetric(day1/(1<<20), "day1-live-MiB")
	b.ReportMetric(peak/(1<<20), "peak-live-MiB")
	b.ReportMetric(steady/day1, "steady/day1")
	b.ReportMetric(live()/(1<<20), "final-live-MiB")
}
