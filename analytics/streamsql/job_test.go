package streamsql_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/analytics"
	"github.com/shardlog/shardlog/analytics/streamsql"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	ctx   = context.Background()
	quiet = slog.New(slog.DiscardHandler)
	t0    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

type rig struct {
	clk     *shardlog.ManualClock
	s       *shardlog.Stream
	results chan analytics.Result[string, streamsql.Row]
}

func newRig(t *testing.T) *rig {
	clk := shardlog.NewManualClock(t0)
	acct, err := shardlog.NewAccount(shardlog.WithClock(clk), shardlog.WithoutLimits(), shardlog.WithLogger(quiet))
	require.NoError(t, err)
	t.Cleanup(func() { acct.Close() })
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "clicks", ShardCount: 1})
	require.NoError(t, err)
	return &rig{clk: clk, s: s, results: make(chan analytics.Result[string, streamsql.Row], 100)}
}

func (r *rig) run(t *testing.T, query string, cfg streamsql.Config) *streamsql.Job {
	t.Helper()
	q, err := streamsql.Parse(query)
	require.NoError(t, err)
	cfg.Name, cfg.Sources, cfg.Store, cfg.Logger = "sql", []shardlog.StreamAPI{r.s}, analytics.MemoryStore(), quiet
	cfg.Output = analytics.OutputFunc[string, streamsql.Row](func(_ context.Context, rs []analytics.Result[string, streamsql.Row]) error {
		for _, x := range rs {
			r.results <- x
		}
		return nil
	})
	j, err := streamsql.NewJob(q, cfg)
	require.NoError(t, err)
	c, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- j.Run(c) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	return j
}

func (r *rig) put(t *testing.T, rows ...string) {
	t.Helper()
	for _, row := range rows {
		_, err := r.s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte(row)})
		require.NoError(t, err)
	}
}

func (r *rig) next(t *testing.T) analytics.Result[string, streamsql.Row] {
	t.Helper()
	select {
	case x := <-r.results:
		return x
	case <-time.After(20 * time.Second):
		t.Fatal("no result")
	}
	return analytics.Result[string, streamsql.Row]{}
}

// TestQueryInEventTime: each aggregate over a tumbling event-time window,
// rows filtered by WHERE, grouped by a column.
func TestQueryInEventTime(t *testing.T) {
	r := newRig(t)
	rejected := make(chan error, 10)
	r.run(t, `SELECT STREAM page, COUNT(*) AS views, COUNT(DISTINCT "user") AS users,
		APPROX_COUNT_DISTINCT("user") AS approx_users, SUM(ms), AVG(ms) AS avg_ms, MIN(ms), MAX(ms),
		APPROX_PERCENTILE(ms, 0.5) AS p50, SUM(missing) AS nothing
		FROM clicks WHERE page <> 'health'
		GROUP BY page, TUMBLE(at, INTERVAL '1' MINUTE)`,
		streamsql.Config{Rejected: func(_ shardlog.UserRecord, err error) { rejected <- err }})
	r.put(t,
		`{"page":"a","user":"u1","ms":10,"at":"2026-03-01T12:00:05Z"}`,
		`{"page":"a","user":"u2","ms":30,"at":"2026-03-01T12:00:15Z"}`,
		`{"page":"a","user":"u1","ms":20,"at":1772366430000}`, // 12:00:30 in Unix milliseconds
		`{"page":"health","user":"lb","ms":1,"at":"2026-03-01T12:00:20Z"}`,
		`not json`,
		`{"page":"a","user":"u3","ms":5}`, // no event time
		`{"page":"b","user":"u9","ms":7,"at":"2026-03-01T12:02:00Z"}`,
	)
	got := r.next(t)
	require.Equal(t, t0, got.Start)
	require.Equal(t, t0.Add(time.Minute), got.End)
	require.Equal(t, `["a"]`, got.Key)
	require.InDelta(t, 20, got.Value[8].Value, 0.2, "p50 within 1 %")
	got.Value[8].Value = 20.0
	b, err := json.Marshal(got.Value)
	require.NoError(t, err)
	require.JSONEq(t, `{"PAGE":"a","VIEWS":3,"USERS":2,"APPROX_USERS":2,"EXPR$4":60,"AVG_MS":20,"EXPR$6":10,"EXPR$7":30,"P50":20,"NOTHING":null}`, string(b))
	require.Len(t, rejected, 2)
	var back streamsql.Row
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, "PAGE", back[0].Name)
	require.Equal(t, int64(3), back[1].Value)
}

// TestQueryOnRowtime: windows of the records' arrival times, hopping.
func TestQueryOnRowtime(t *testing.T) {
	r := newRig(t)
	j := r.run(t, `SELECT STREAM COUNT(*) AS n FROM "clicks" GROUP BY HOP("clicks".ROWTIME, INTERVAL '30' SECOND, INTERVAL '1' MINUTE)`, streamsql.Config{})
	r.put(t, `{"x":1}`, `{"x":2}`)
	require.Eventually(t, func() bool { return j.Stats().Events == 2 }, 20*time.Second, time.Millisecond)
	r.clk.Advance(40 * time.Second)
	r.put(t, `{"x":3}`)
	require.Eventually(t, func() bool { return j.Stats().Events == 3 }, 20*time.Second, time.Millisecond)
	r.clk.Advance(2 * time.Minute)
	r.put(t, `{"x":4}`) // moves the watermark past both windows
	first, second := r.next(t), r.next(t)
	require.Equal(t, []any{t0.Add(-30 * time.Second), int64(2)}, []any{first.Start, first.Value[0].Value})
	require.Equal(t, []any{t0, int64(3)}, []any{second.Start, second.Value[0].Value})
}

func TestNewJobNeedsTheSource(t *testing.T) {
	r := newRig(t)
	q, err := streamsql.Parse(`SELECT STREAM COUNT(*) FROM other GROUP BY FLOOR(ROWTIME TO MINUTE)`)
	require.NoError(t, err)
	_, err = streamsql.NewJob(q, streamsql.Config{Name: "x", Sources: []shardlog.StreamAPI{r.s}, Store: analytics.MemoryStore()})
	require.ErrorIs(t, err, analytics.ErrInvalidConfig)
	require.ErrorContains(t, err, `"OTHER"`)
}
