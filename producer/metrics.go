package producer

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardlog/shardlog"
)

// MetricsNamespace is the CloudWatch namespace of the KPL's metrics, whose
// names the producer's metrics take.
const MetricsNamespace = "KinesisProducerLibrary"

// The producer's metrics, as the KPL names them.
const (
	mUserRecordsReceived = iota
	mUserRecordsPending
	mUserRecordsPut
	mUserRecordsDataPut
	mKinesisRecordsPut
	mKinesisRecordsDataPut
	mAllErrors
	mRetriesPerRecord
	mUserRecordExpired
	mBufferingTime
	mRequestTime
	mUserRecordsPerKinesisRecord
	mKinesisRecordsPerRequest
	mUserRecordsPerRequest
	numMetrics
)

var metricDefs = [numMetrics]struct{ name, unit string }{
	{"UserRecordsReceived", "Count"},
	{"UserRecordsPending", "Count"},
	{"UserRecordsPut", "Count"},
	{"UserRecordsDataPut", "Bytes"},
	{"KinesisRecordsPut", "Count"},
	{"KinesisRecordsDataPut", "Bytes"},
	{"AllErrors", "Count"},
	{"RetriesPerRecord", "Count"},
	{"UserRecordExpired", "Count"},
	{"BufferingTime", "Milliseconds"},
	{"RequestTime", "Milliseconds"},
	{"UserRecordsPerKinesisRecord", "Count"},
	{"KinesisRecordsPerPutRecordsRequest", "Count"},
	{"UserRecordsPerPutRecordsRequest", "Count"},
}

// series is one metric's samples: totals since the producer started, and
// the maximum of the current and the previous minute.
type series struct {
	n         int64
	sum       float64
	minute    int64
	max, prev float64
	nNow      int64
	nPrev     int64
}

func (s *series) add(v float64, minute int64) { s.addN(1, v, v, minute) }

// addN adds n samples that sum to sum, the largest max.
func (s *series) addN(n int64, sum, max float64, minute int64) {
	if n == 0 {
		return
	}
	if minute != s.minute {
		if minute == s.minute+1 {
			s.prev, s.nPrev = s.max, s.nNow
		} else {
			s.prev, s.nPrev = 0, 0
		}
		s.minute, s.max, s.nNow = minute, max, 0
	}
	s.n += n
	s.sum += sum
	s.nNow += n
	s.max = maxOf(s.max, max)
}

func maxOf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

// meters tallies the producer's metrics.
type meters struct {
	clock shardlog.Clock
	// UserRecordsReceived, counted by Puts without the lock: every sample
	// is 1, and only the minute of the last matters for its maximum.
	puts    atomic.Int64
	putLast atomic.Int64 // the minute of the last Put

	mu    sync.Mutex
	all   [numMetrics]series
	codes map[string]*series // ErrorsByCode, by ErrorCode
}

// received counts a Put.
func (m *meters) received(now time.Time) {
	m.puts.Add(1)
	m.putLast.Store(now.Unix() / 60)
}

func (m *meters) add(metric int, v float64) {
	minute := m.clock.Now().Unix() / 60
	m.mu.Lock()
	m.all[metric].add(v, minute)
	m.mu.Unlock()
}

// tally adds samples to several metrics at once, at one time.
func (m *meters) tally(t *tally) {
	minute := m.clock.Now().Unix() / 60
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range t {
		m.all[i].addN(t[i].n, t[i].sum, t[i].max, minute)
	}
	*t = tally{}
}

// tally is samples gathered for meters.tally.
type tally [numMetrics]struct {
	n        int64
	sum, max float64
}

func (t *tally) add(metric int, v float64) {
	s := &t[metric]
	if s.n == 0 || v > s.max {
		s.max = v
	}
	s.n++
	s.sum += v
}

// addError counts a failed Kinesis record: AllErrors and ErrorsByCode.
func (m *meters) addError(code string) {
	minute := m.clock.Now().Unix() / 60
	m.mu.Lock()
	defer m.mu.Unlock()
	m.all[mAllErrors].add(1, minute)
	if m.codes == nil {
		m.codes = map[string]*series{}
	}
	s := m.codes[code]
	if s == nil {
		s = &series{}
		m.codes[code] = s
	}
	s.add(1, minute)
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// MetricTotals returns the producer's metrics with the KPL's names, units
// and dimensions (StreamName; ErrorCode for ErrorsByCode): each series'
// sum and sample count since the producer started, and its maximum of the
// current and the previous minute. Package prom exports them
// (prom.NewProducerCollector). UserRecordsPut has a sample of 1 per record
// stored and 0 per record that failed, as the KPL's code counts it.
func (p *Producer) MetricTotals(ctx context.Context) ([]shardlog.MetricTotal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m := &p.meters
	minute := m.clock.Now().Unix() / 60
	stream := shardlog.Dimension{Name: "StreamName", Value: p.api.Name()}
	total := func(name, unit string, s *series, dims ...shardlog.Dimension) shardlog.MetricTotal {
		t := shardlog.MetricTotal{MetricName: name, Unit: unit, Dimensions: dims, Sum: s.sum, SampleCount: s.n}
		switch minute {
		case s.minute:
			t.Maximum, t.RecentSamples = max(s.max, s.prev), s.nNow+s.nPrev
			if s.nPrev == 0 {
				t.Maximum = s.max
			}
		case s.minute + 1:
			t.Maximum, t.RecentSamples = s.max, s.nNow
		}
		return t
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []shardlog.MetricTotal
	if n := m.puts.Load(); n > 0 {
		t := shardlog.MetricTotal{MetricName: metricDefs[mUserRecordsReceived].name, Unit: "Count", Dimensions: []shardlog.Dimension{stream},
			Sum: float64(n), SampleCount: n}
		if minute-m.putLast.Load() <= 1 {
			t.Maximum, t.RecentSamples = 1, 1 // a lower bound: samples are not counted per minute
		}
		out = append(out, t)
	}
	for i := range m.all {
		if s := &m.all[i]; s.n > 0 {
			out = append(out, total(metricDefs[i].name, metricDefs[i].unit, s, stream))
		}
	}
	codes := make([]string, 0, len(m.codes))
	for code := range m.codes {
		codes = append(codes, code)
	}
	slices.SortFunc(codes, strings.Compare)
	for _, code := range codes {
		out = append(out, total("ErrorsByCode", "Count", m.codes[code], stream, shardlog.Dimension{Name: "ErrorCode", Value: code}))
	}
	return out, nil
}
