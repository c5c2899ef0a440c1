package streamsql

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/analytics"
)

// Config says where a query runs; its fields are analytics.Config's.
type Config struct {
	Name              string               // the job's name; required
	Sources           []shardlog.StreamAPI // the stream FROM names must be among them
	Leases            shardlog.LeaseStore  // for sources other than *shardlog.Stream
	Store             analytics.Store      // required
	InitialPosition   shardlog.StartingPosition
	Output            analytics.Output[string, Row] // required
	MaxOutOfOrderness time.Duration
	IdleTimeout       time.Duration
	AllowedLateness   time.Duration
	SnapshotInterval  time.Duration
	// Late gets rows too late for any window, as JSON objects.
	Late     func(analytics.LateEvent[map[string]any])
	Rejected func(shardlog.UserRecord, error)
	WorkerID string
	Clock    shardlog.Clock
	Logger   *slog.Logger
}

// Row is one result's columns, in the query's order. Its JSON is an
// object of them.
type Row []Column

// Column is one output column of a result.
type Column struct {
	Name  string
	Value any // nil, bool, float64, int64 (COUNT and APPROX_COUNT_DISTINCT) or string
}

// MarshalJSON writes the row as a JSON object, columns in order.
func (r Row) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range r {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c.Name)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(c.Value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object MarshalJSON wrote, keeping its order.
func (r *Row) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("streamsql: a row is a JSON object")
	}
	*r = (*r)[:0]
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				v = i
			} else {
				v, _ = n.Float64()
			}
		}
		*r = append(*r, Column{Name: t.(string), Value: v})
	}
	_, err := dec.Token()
	return err
}

// Job runs a query: see NewJob.
type Job struct {
	job *analytics.Job[event, string, acc, Row]
}

// Run runs the query until ctx is done (see analytics.Job.Run).
func (j *Job) Run(ctx context.Context) error { return j.job.Run(ctx) }

// Stats returns the job's counters (see analytics.Job.Stats).
func (j *Job) Stats() analytics.Stats { return j.job.Stats() }

// event is a row with its time.
type event struct {
	r row
	t time.Time
}

// acc is a window's accumulator: the grouping columns' values, and one
// accumulator per aggregate.
type acc struct {
	Group []any    `json:",omitempty"`
	Aggs  []aggAcc `json:",omitempty"`
}

type aggAcc struct {
	N      int64                 `json:",omitempty"` // values counted
	Sum    float64               `json:",omitempty"`
	Ext    analytics.Extreme     `json:",omitzero"`
	Set    analytics.Set[string] `json:",omitempty"`
	Sketch analytics.Sketch      `json:",omitzero"`
	Quant  analytics.Quantiles   `json:",omitzero"`
}

var (
	distinctSketch = analytics.ApproxDistinct(func(s string) string { return s })
	minOf          = analytics.Min(func(x float64) float64 { return x })
	maxOf          = analytics.Max(func(x float64) float64 { return x })
	quantilesOf    = analytics.Percentiles(func(x float64) float64 { return x })
)

// NewJob compiles q into a job of package analytics: FROM picks the
// source, WHERE filters rows, the window's time is ROWTIME (the record's
// arrival in the stream) or an event-time column, and each group's key is
// the JSON array of its grouping columns' values. Records must be JSON
// objects: others, and rows without a valid event time, go to
// cfg.Rejected.
func NewJob(q *Query, cfg Config) (*Job, error) {
	var src shardlog.StreamAPI
	for _, s := range cfg.Sources {
		if s != nil && (s.Name() == q.source || sameColumn(column{name: s.Name()}, column{name: q.source})) {
			src = s
		}
	}
	if src == nil {
		return nil, fmt.Errorf("%w: the query reads %q, which is not among the Sources", analytics.ErrInvalidConfig, q.source)
	}
	var w analytics.Window
	switch q.window.kind {
	case tumble:
		w = analytics.Tumbling(q.window.size)
	case hop:
		w = analytics.Hopping(q.window.size, q.window.slide)
	case session:
		w = analytics.Session(q.window.gap)
	}
	c := &compiled{q: q}
	j, err := analytics.New(analytics.Config[event, string, acc, Row]{
		Name: cfg.Name, Sources: []shardlog.StreamAPI{src}, Leases: cfg.Leases, Store: cfg.Store,
		InitialPosition: cfg.InitialPosition,
		Decode:          c.decode, Key: c.key, EventTime: func(e event) time.Time { return e.t },
		MaxOutOfOrderness: cfg.MaxOutOfOrderness, IdleTimeout: cfg.IdleTimeout, AllowedLateness: cfg.AllowedLateness,
		Window: w, Aggregate: c, Output: cfg.Output,
		Late:     lateRows(cfg.Late),
		Rejected: cfg.Rejected, SnapshotInterval: cfg.SnapshotInterval,
		WorkerID: cfg.WorkerID, Clock: cfg.Clock, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	return &Job{job: j}, nil
}

func lateRows(f func(analytics.LateEvent[map[string]any])) func(analytics.LateEvent[event]) {
	if f == nil {
		return nil
	}
	return func(e analytics.LateEvent[event]) {
		f(analytics.LateEvent[map[string]any]{Event: e.Event.r, Time: e.Time, Watermark: e.Watermark, ShardID: e.ShardID, SequenceNumber: e.SequenceNumber})
	}
}

// compiled is a query made an Aggregator, with its Decode and Key.
type compiled struct {
	q *Query
}

var errNotObject = errors.New("streamsql: the record is not a JSON object")

func (c *compiled) decode(u shardlog.UserRecord) (event, error) {
	var r row
	if err := json.Unmarshal(u.Data, &r); err != nil || r == nil {
		return event{}, errNotObject
	}
	if c.q.where != nil {
		if ok, _ := c.q.where.eval(r).(bool); !ok {
			return event{}, analytics.ErrSkip
		}
	}
	e := event{r: r, t: u.ApproximateArrivalTimestamp}
	if tc := c.q.window.time; !tc.rowtime() {
		t, err := eventTime(r.get(tc))
		if err != nil {
			return event{}, fmt.Errorf("streamsql: the event time %s: %w", tc.name, err)
		}
		e.t = t
	}
	return e, nil
}

// eventTime reads RFC 3339 text or Unix milliseconds.
func eventTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case string:
		return time.Parse(time.RFC3339Nano, x)
	case float64:
		if math.IsNaN(x) || math.Abs(x) > 1e15 {
			return time.Time{}, fmt.Errorf("%v is not a time", x)
		}
		return time.UnixMilli(int64(x)).UTC(), nil
	case nil:
		return time.Time{}, errors.New("missing")
	}
	return time.Time{}, fmt.Errorf("%v is neither RFC 3339 text nor Unix milliseconds", v)
}

func (c *compiled) key(e event) string {
	vals := make([]any, len(c.q.group))
	for i, g := range c.q.group {
		vals[i] = e.r.get(g)
	}
	b, _ := json.Marshal(vals) // values decoded from JSON encode again
	return string(b)
}

func (c *compiled) Zero() acc { return acc{} }

func (c *compiled) Add(a acc, e event) acc {
	if a.Group == nil && len(c.q.group) > 0 {
		a.Group = make([]any, len(c.q.group))
		for i, g := range c.q.group {
			a.Group[i] = e.r.get(g)
		}
	}
	if a.Aggs == nil {
		a.Aggs = make([]aggAcc, len(c.q.items))
	}
	for i, it := range c.q.items {
		if it.agg == nil {
			continue
		}
		s := &a.Aggs[i]
		if it.agg.star {
			s.N++
			continue
		}
		v := it.agg.arg.eval(e.r)
		if v == nil {
			continue
		}
		switch it.agg.fn {
		case "COUNT":
			if it.agg.distinct {
				if s.Set == nil {
					s.Set = analytics.Set[string]{}
				}
				s.Set[distinctText(v)] = struct{}{}
			}
			s.N++
		case "APPROX_COUNT_DISTINCT":
			s.Sketch = distinctSketch.Add(s.Sketch, distinctText(v))
		default:
			x, ok := v.(float64)
			if !ok {
				continue // not a number: as a null
			}
			s.N++
			s.Sum += x
			switch it.agg.fn {
			case "MIN":
				s.Ext = minOf.Add(s.Ext, x)
			case "MAX":
				s.Ext = maxOf.Add(s.Ext, x)
			case "APPROX_PERCENTILE":
				s.Quant = quantilesOf.Add(s.Quant, x)
			}
		}
	}
	return a
}

func distinctText(v any) string {
	switch x := v.(type) {
	case string:
		return "s" + x
	case float64:
		return "n" + strconv.FormatFloat(x, 'g', -1, 64)
	}
	b, _ := json.Marshal(v)
	return "j" + string(b)
}

func (c *compiled) Merge(a, o acc) acc {
	if a.Group == nil {
		a.Group = o.Group
	}
	if a.Aggs == nil {
		a.Aggs = make([]aggAcc, len(c.q.items))
	}
	for i, it := range c.q.items {
		if it.agg == nil || i >= len(o.Aggs) {
			continue
		}
		s, t := &a.Aggs[i], o.Aggs[i]
		s.N += t.N
		s.Sum += t.Sum
		switch it.agg.fn {
		case "MIN":
			s.Ext = minOf.Merge(s.Ext, t.Ext)
		case "MAX":
			s.Ext = maxOf.Merge(s.Ext, t.Ext)
		case "APPROX_COUNT_DISTINCT":
			s.Sketch = distinctSketch.Merge(s.Sketch, t.Sketch)
		case "APPROX_PERCENTILE":
			s.Quant = quantilesOf.Merge(s.Quant, t.Quant)
		case "COUNT":
			if it.agg.distinct {
				if s.Set == nil {
					s.Set = analytics.Set[string]{}
				}
				for v := range t.Set {
					s.Set[v] = struct{}{}
				}
			}
		}
	}
	return a
}

func (c *compiled) Result(a acc) Row {
	out := make(Row, len(c.q.items))
	for i, it := range c.q.items {
		out[i].Name = it.name
		if it.col != nil {
			for j, g := range c.q.group {
				if sameColumn(g, *it.col) && j < len(a.Group) {
					out[i].Value = a.Group[j]
				}
			}
			continue
		}
		var s aggAcc
		if i < len(a.Aggs) {
			s = a.Aggs[i]
		}
		switch it.agg.fn {
		case "COUNT":
			if it.agg.distinct {
				out[i].Value = int64(len(s.Set))
			} else {
				out[i].Value = s.N
			}
		case "APPROX_COUNT_DISTINCT":
			out[i].Value = distinctSketch.Result(s.Sketch)
		default:
			if s.N == 0 {
				continue // SQL's null: no values
			}
			switch it.agg.fn {
			case "SUM":
				out[i].Value = s.Sum
			case "AVG":
				out[i].Value = s.Sum / float64(s.N)
			case "MIN", "MAX":
				out[i].Value = s.Ext.Value
			case "APPROX_PERCENTILE":
				out[i].Value = analytics.Percentiles(func(x float64) float64 { return x }, it.agg.q).Result(s.Quant)[0]
			}
		}
	}
	return out
}
