package shardlog_test

import (
	"context"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

// event is something a test processor saw.
type event struct {
	kind   string // init, records, lost, ended, leaselost, shutdown
	worker string
	shard  string
	data   []string
	lost   uint64
	seq    shardlog.SequenceNumber // init: the checkpoint
}

// recorder is a RecordProcessor that reports every call on events and
// checkpoints after each batch and at each shard's end.
type recorder struct {
	worker, shard string
	events        chan<- event
	hold          <-chan struct{} // if set, each batch waits for it
	noCheckpoint  bool
}

func (r *recorder) Initialize(in shardlog.InitializeInput) {
	r.events <- event{kind: "init", worker: r.worker, shard: in.ShardID, seq: in.Checkpoint}
}

func (r *recorder) ProcessRecords(in shardlog.ProcessRecordsInput) {
	if in.Lost != nil {
		r.events <- event{kind: "lost", worker: r.worker, shard: r.shard, lost: in.Lost.Count}
	}
	e := event{kind: "records", worker: r.worker, shard: r.shard}
	for _, rec := range in.Records {
		e.data = append(e.data, string(rec.Data))
	}
	if r.hold != nil {
		<-r.hold
	}
	if !r.noCheckpoint {
		if err := in.Checkpointer.Checkpoint(context.Background()); err != nil {
			e.kind = "checkpoint failed: " + err.Error()
		}
	}
	r.events <- e
}

func (r *recorder) LeaseLost(shardlog.LeaseLostInput) {
	r.events <- event{kind: "leaselost", worker: r.worker, shard: r.shard}
}

func (r *recorder) ShardEnded(in shardlog.ShardEndedInput) {
	if err := in.Checkpointer.Checkpoint(context.Background()); err != nil {
		panic(err)
	}
	r.events <- event{kind: "ended", worker: r.worker, shard: r.shard}
}

func (r *recorder) ShutdownRequested(in shardlog.ShutdownRequestedInput) {
	r.events <- event{kind: "shutdown", worker: r.worker, shard: r.shard}
}

// group runs workers of one application on a stream for a test.
type group struct {
	t      *testing.T
	s      *shardlog.Stream
	events chan event
	cfg    shardlog.WorkerConfig
	stops  map[string]func()
}

func newGroup(t *testing.T, s *shardlog.Stream, cfg shardlog.WorkerConfig) *group {
	g := &group{t: t, s: s, events: make(chan event, 1<<16), cfg: cfg, stops: map[string]func(){}}
	if g.cfg.Application == "" {
		g.cfg.Application = "app"
	}
	t.Cleanup(func() {
		for _, stop := range g.stops {
			stop()
		}
	})
	return g
}

// start runs a worker; configure may change its processors.
func (g *group) start(id string, configure ...func(*recorder)) {
	cfg := g.cfg
	cfg.WorkerID = id
	cfg.NewProcessor = func(shardID string) shardlog.RecordProcessor {
		r := &recorder{worker: id, shard: shardID, events: g.events}
		for _, c := range configure {
			c(r)
		}
		return r
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.s.RunWorker(ctx, cfg) }()
	g.stops[id] = func() {
		cancel()
		require.NoError(g.t, <-done)
		delete(g.stops, id)
	}
}

// stop stops a worker gracefully and waits for it.
func (g *group) stop(id string) { g.stops[id]() }

// next returns the next event, failing the test if none comes.
func (g *group) next() event {
	g.t.Helper()
	select {
	case e := <-g.events:
		return e
	case <-time.After(10 * time.Second):
		g.t.Fatal("no event from the group")
		return event{}
	}
}

// until collects events until n records have been processed.
func (g *group) until(n int) []event {
	g.t.Helper()
	var out []event
	for got := 0; got < n; {
		e := g.next()
		require.NotContains(g.t, e.kind, "failed")
		got += len(e.data)
		out = append(out, e)
	}
	return out
}

// owners counts the group's leases by owner, leaving out ended ones.
func owners(t *testing.T, s *shardlog.Stream) map[string]int {
	t.Helper()
	shards, err := s.DescribeGroup(context.Background(), "app", nil)
	require.NoError(t, err)
	out := map[string]int{}
	for _, g := range shards {
		if !g.ShardEnd {
			out[g.Owner]++
		}
	}
	return out
}

// TestGroupReadsParentsBeforeChildren: one worker processes every record
// once, in order per key, across splits and merges.
func TestGroupReadsParentsBeforeChildren(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 2)
	written := map[string]int{}
	writeKeys(t, s, written, 100)
	require.NoError(t, s.SplitShard(ctx, shard0, "12345678901234567890"))
	writeKeys(t, s, written, 100)
	_, err := s.UpdateShardCount(ctx, 5, shardlog.UniformScaling)
	require.NoError(t, err)
	writeKeys(t, s, written, 100)

	g := newGroup(t, s, shardlog.WorkerConfig{})
	g.start("w1")
	check := newOrderChecker(t)
	for _, e := range g.until(300) {
		for _, d := range e.data {
			check.see([]byte(d))
		}
	}
	_, err = s.UpdateShardCount(ctx, 3, shardlog.UniformScaling)
	require.NoError(t, err)
	writeKeys(t, s, written, 100)
	for _, e := range g.until(100) {
		for _, d := range e.data {
			check.see([]byte(d))
		}
	}
	require.Equal(t, 400, check.count())
	shards, err := s.DescribeGroup(ctx, "app", nil)
	require.NoError(t, err)
	require.Len(t, shards, 22, "a lease for every shard")
	for _, sh := range shards {
		require.Zero(t, sh.RecordsBehind, sh.Key)
	}
}
