package analytics

import (
	"sync/atomic"
	"time"
)

// Stats are a running job's counters, for dashboards and tests.
type Stats struct {
	Events    int64     // events added to windows since Run started
	Late      int64     // events too late for any window
	Rejected  int64     // records Decode failed on
	Results   int64     // results emitted (again after a restart too)
	Pending   int       // results fired and not yet emitted
	Windows   int       // windows open now, by key (panes for hopping windows)
	Watermark time.Time // the job's watermark; zero before it has one
	Snapshots int64     // the version of the last snapshot saved
}

// stats are the counters behind Stats, written by the job's goroutines.
type stats struct {
	events, late, rejected, results, pending, windows, watermark, snapshots atomic.Int64
}

// Stats returns the job's counters now.
func (j *Job[E, K, A, R]) Stats() Stats {
	s := Stats{
		Events:    j.stats.events.Load(),
		Late:      j.stats.late.Load(),
		Rejected:  j.stats.rejected.Load(),
		Results:   j.stats.results.Load(),
		Pending:   int(j.stats.pending.Load()),
		Windows:   int(j.stats.windows.Load()),
		Snapshots: j.stats.snapshots.Load(),
	}
	if wm := j.stats.watermark.Load(); wm != floor {
		s.Watermark = unixNano(wm)
	}
	return s
}
