package autoscale_test

import (
	"testing"

	"github.com/shardlog/shardlog/autoscale"
)

// BenchmarkTimeToRelief reports how many minutes of the clock the
// autoscaler, with its defaults, takes to bring a one-shard stream
// written at three times its limit back under it: minutes-to-relief.
func BenchmarkTimeToRelief(b *testing.B) {
	for range b.N {
		s, clk := provisioned(b, 1)
		as, err := autoscale.New(s, autoscale.Config{Logger: quiet, Clock: clk})
		if err != nil {
			b.Fatal(err)
		}
		minutes := 0
		for ; drive(b, s, clk, 3*limit, even) > 0; minutes++ {
			if minutes == 60 {
				b.Fatal("still throttled after an hour")
			}
			if _, err := as.Look(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(minutes), "minutes-to-relief")
	}
}
