package shardlog_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	// endWithoutCheckpoint, if set, makes the first ShardEnded of any
	// processor sharing it return without checkpointing.
	endWithoutCheckpoint *atomic.Bool
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
		if err := in.Checkpointer.Checkpoint(context.Background()); err != nil && !errors.Is(err, shardlog.ErrLeaseLost) {
			e.kind = "checkpoint failed: " + err.Error()
		}
	}
	r.events <- e
}

func (r *recorder) LeaseLost(shardlog.LeaseLostInput) {
	r.events <- event{kind: "leaselost", worker: r.worker, shard: r.shard}
}

func (r *recorder) ShardEnded(in shardlog.ShardEndedInput) {
	if r.endWithoutCheckpoint == nil || !r.endWithoutCheckpoint.CompareAndSwap(false, true) {
		if err := in.Checkpointer.Checkpoint(context.Background()); err != nil && !errors.Is(err, shardlog.ErrLeaseLost) {
			panic(err)
		}
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
	// api, if set, is the stream the workers read, through RunWorker.
	api shardlog.StreamAPI
	// idle is how many clock timers are pending when the worker and every
	// shard consumer wait (poll's test before it moves the clock); 0
	// means 2.
	idle int
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
	g.run(id, func(shardID string) shardlog.RecordProcessor {
		r := &recorder{worker: id, shard: shardID, events: g.events}
		for _, c := range configure {
			c(r)
		}
		return r
	})
}

// run runs a worker with the processors newProcessor makes.
func (g *group) run(id string, newProcessor func(shardID string) shardlog.RecordProcessor) {
	cfg := g.cfg
	cfg.WorkerID = id
	cfg.NewProcessor = newProcessor
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		if g.api != nil {
			done <- shardlog.RunWorker(ctx, g.api, cfg)
		} else {
			done <- g.s.RunWorker(ctx, cfg)
		}
	}()
	g.stops[id] = func() {
		delete(g.stops, id)
		cancel()
		require.NoError(g.t, <-done, "worker %s", id)
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

// see passes n processed records through check.
func (g *group) see(check *orderChecker, n int) {
	g.t.Helper()
	for _, e := range g.until(n) {
		for _, d := range e.data {
			check.see([]byte(d))
		}
	}
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
	require.NoError(t, errOf(s.SplitShard(ctx, shard0, "12345678901234567890")))
	writeKeys(t, s, written, 100)
	_, err := s.UpdateShardCount(ctx, 5, shardlog.UniformScaling)
	require.NoError(t, err)
	writeKeys(t, s, written, 100)

	g := newGroup(t, s, shardlog.WorkerConfig{})
	g.start("w1")
	check := newOrderChecker(t)
	g.see(check, 300)
	_, err = s.UpdateShardCount(ctx, 3, shardlog.UniformScaling)
	require.NoError(t, err)
	writeKeys(t, s, written, 100)
	g.see(check, 100)
	require.Equal(t, 400, check.count())
	shards, err := s.DescribeGroup(ctx, "app", nil)
	require.NoError(t, err)
	require.Len(t, shards, 22, "a lease for every shard")
	for _, sh := range shards {
		require.Zero(t, sh.RecordsBehind, sh.Key)
	}
}

// TestGroupBalancesAndStealsLeases: a second worker steals from the first
// until each holds half; when one stops, the other takes all back at once.
func TestGroupBalancesAndStealsLeases(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 8)
	g := newGroup(t, s, shardlog.WorkerConfig{FailoverTime: 3 * time.Second})
	g.start("A")
	for range 8 {
		require.Equal(t, "init", g.next().kind)
	}
	require.Equal(t, map[string]int{"A": 8}, owners(t, s))

	g.start("B")
	require.Equal(t, event{kind: "init", worker: "B", shard: "shardId-000000000007", seq: g.initSeq(s, 7)}, g.next(), "B steals the newest shard at once")
	for range 5 {
		clk.Advance(time.Second) // each pass, B steals one more until it has its share
	}
	require.Equal(t, map[string]int{"A": 4, "B": 4}, owners(t, s))

	g.start("C") // a third joins: the busiest give one each until it has its share
	for e := g.next(); e.worker != "C" || e.kind != "init"; e = g.next() {
	}
	for range 5 {
		clk.Advance(time.Second)
	}
	requireBalanced(t, owners(t, s), 3, 8)
	g.stop("C") // frees its leases: the others take them
	clk.Advance(time.Second)
	require.Equal(t, map[string]int{"A": 4, "B": 4}, owners(t, s))

	g.stop("A")
	clk.Advance(time.Second)
	require.Equal(t, map[string]int{"B": 8}, owners(t, s))
}

// requireBalanced checks that workers owners hold all leases, none more
// than one above another.
func requireBalanced(t *testing.T, held map[string]int, workers, leases int) {
	t.Helper()
	require.Len(t, held, workers, "%v", held)
	lo, hi, total := leases, 0, 0
	for _, n := range held {
		lo, hi, total = min(lo, n), max(hi, n), total+n
	}
	require.Equal(t, leases, total, "%v", held)
	require.LessOrEqual(t, hi-lo, 1, "%v", held)
}

// initSeq is the checkpoint a shard not yet read starts from.
func (g *group) initSeq(s *shardlog.Stream, index int) shardlog.SequenceNumber {
	out, err := s.ListShards(context.Background(), shardlog.ListShardsInput{})
	require.NoError(g.t, err)
	return out.Shards[index].SequenceNumberRange.StartingSequenceNumber
}

// failingStore is a LeaseStore whose writes fail once failing is set, as a
// worker cut off from its store.
type failingStore struct {
	shardlog.LeaseStore
	failing atomic.Bool
}

func (f *failingStore) Swap(ctx context.Context, table string, old *shardlog.Lease, l shardlog.Lease) error {
	if f.failing.Load() {
		return errors.New("cut off")
	}
	return f.LeaseStore.Swap(ctx, table, old, l)
}

// TestGroupTakesOverFromAWorkerThatStopped: leases whose holder stopped
// renewing them are taken once they have not moved for the failover time,
// not before; the holder, unable to renew for as long, lets them go.
func TestGroupTakesOverFromAWorkerThatStopped(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 4)
	cut := &failingStore{LeaseStore: a.LeaseStore()}
	g := newGroup(t, s, shardlog.WorkerConfig{FailoverTime: 9 * time.Second, Leases: cut})
	g.start("A")
	for range 4 {
		require.Equal(t, "init", g.next().kind)
	}
	cut.failing.Store(true)

	g.cfg.Leases = nil // the account's store, which A no longer reaches
	g.start("B")
	require.Equal(t, "B", g.next().worker, "B steals one at once")
	clk.Advance(3 * time.Second) // and one more: A has its share
	require.Equal(t, map[string]int{"A": 2, "B": 2}, owners(t, s))
	clk.Advance(3 * time.Second)
	require.Equal(t, map[string]int{"A": 2, "B": 2}, owners(t, s), "A's leases have not expired yet")
	clk.Advance(3 * time.Second) // 9 s since A last renewed
	require.Equal(t, map[string]int{"B": 4}, owners(t, s))

	lost := map[string]int{}
	for len(lost) < 4 { // A lets every lease go: two stolen, two it could not renew
		e := g.next()
		if e.kind == "leaselost" {
			lost[e.shard]++
		}
	}
}

// TestGroupResumesAfterTheCheckpoint: a worker started again gets exactly
// the records after the last checkpoint; without checkpoints, all again.
func TestGroupResumesAfterTheCheckpoint(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 2)
	written := map[string]int{}
	writeKeys(t, s, written, 40)
	g := newGroup(t, s, shardlog.WorkerConfig{})
	g.start("w")
	g.until(40)
	g.stop("w")
	writeKeys(t, s, written, 26)

	check := newOrderChecker(t)
	for k, n := range written {
		check.next[k] = n - 2 // each key got two of the 26 after the checkpoint
	}
	g.start("w", func(r *recorder) { r.noCheckpoint = true })
	g.see(check, 26)
	g.stop("w")

	for k, n := range written {
		check.next[k] = n - 2
	}
	g.start("w2")
	g.see(check, 26)
}

// TestGroupReportsLostRecords: records a size bound drops before the group
// reads them come as Lost, before the batch that follows them.
func TestGroupReportsLostRecords(t *testing.T) {
	a, _ := newAccount(t, shardlog.WithSizeBound(shardlog.SizeBound{Records: 100}))
	s := newStream(t, a, "s", 1)
	putSeqs(t, s, "k", 0, 10)
	hold := make(chan struct{})
	g := newGroup(t, s, shardlog.WorkerConfig{})
	g.start("w", func(r *recorder) { r.hold = hold })
	require.Equal(t, "init", g.next().kind)
	putSeqs(t, s, "k", 10, 300) // while the first batch is held
	close(hold)
	var lost uint64
	read := 0
	for read+int(lost) < 300 {
		e := g.next()
		read += len(e.data)
		lost += e.lost
	}
	require.Equal(t, 300, read+int(lost), "every record processed or reported lost")
	require.NotZero(t, lost)
}

// TestGroupChildWaitsForTheParentsCheckpoint: a processor that does not
// checkpoint at its shard's end holds the children back, and is run again.
func TestGroupChildWaitsForTheParentsCheckpoint(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	put(t, s, "k", "parent")
	require.NoError(t, errOf(s.SplitShard(ctx, shard0, "12345678901234567890")))
	put(t, s, "k", "child")
	var skipped atomic.Bool
	g := newGroup(t, s, shardlog.WorkerConfig{FailoverTime: 3 * time.Second})
	g.start("w", func(r *recorder) {
		r.endWithoutCheckpoint = &skipped
	})
	var got []string
	for len(got) == 0 || got[len(got)-1] != "child" {
		e := g.next()
		switch e.kind {
		case "records":
			got = append(got, e.data...)
		case "ended":
			got = append(got, "ended "+e.shard)
			if len(got) == 2 {
				clk.Advance(time.Second) // the next pass runs the processor again
			}
		}
	}
	require.Equal(t, []string{"parent", "ended " + shard0, "ended " + shard0, "child"}, got,
		"the child waits; the parent resumes after its checkpoint")
}

func TestRunWorkerRefusesBadConfigs(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	proc := func(string) shardlog.RecordProcessor { return &recorder{} }
	for name, cfg := range map[string]shardlog.WorkerConfig{
		"no application":   {NewProcessor: proc},
		"bad application":  {Application: "a b", NewProcessor: proc},
		"no processor":     {Application: "app"},
		"at a sequence":    {Application: "app", NewProcessor: proc, InitialPosition: shardlog.StartingPosition{Type: shardlog.AtSequenceNumber}},
		"too many records": {Application: "app", NewProcessor: proc, MaxRecords: 10001},
		"short failover":   {Application: "app", NewProcessor: proc, FailoverTime: time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			err := s.RunWorker(ctx, cfg)
			require.Error(t, err)
			var e *shardlog.Error
			require.ErrorAs(t, err, &e)
		})
	}
}

// TestRunWorkerEndsWithTheStream: deleting the stream or closing the
// account ends a worker with the error that says so.
func TestRunWorkerEndsWithTheStream(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 2)
	cfg := shardlog.WorkerConfig{Application: "app", NewProcessor: func(string) shardlog.RecordProcessor { return &recorder{events: make(chan event, 10)} }}
	done := make(chan error, 1)
	go func() { done <- s.RunWorker(ctx, cfg) }()
	require.NoError(t, a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "s"}}))
	require.ErrorIs(t, <-done, shardlog.ErrResourceNotFound)

	s = newStream(t, a, "s2", 2)
	go func() { done <- s.RunWorker(ctx, cfg) }()
	require.NoError(t, a.Close())
	require.ErrorIs(t, <-done, shardlog.ErrClosed)
}

// TestGroupResumesAfterARestart: with a durable account, checkpoints
// survive Close; a worker after the restart gets exactly the records after
// them.
func TestGroupResumesAfterARestart(t *testing.T) {
	dir := t.TempDir()
	open := func() (*shardlog.Account, *shardlog.Stream) {
		a, err := shardlog.NewAccount(shardlog.WithDir(dir), shardlog.WithClock(shardlog.NewManualClock(t0)), shardlog.WithoutLimits())
		require.NoError(t, err)
		t.Cleanup(func() { a.Close() })
		s, err := a.Stream(shardlog.StreamRef{StreamName: "s"})
		if err != nil {
			s = newStream(t, a, "s", 3)
		}
		return a, s
	}
	a, s := open()
	written := map[string]int{}
	writeKeys(t, s, written, 40)
	g := newGroup(t, s, shardlog.WorkerConfig{})
	g.start("w")
	g.until(40)
	g.stop("w")
	require.NoError(t, a.Close())

	_, s = open()
	writeKeys(t, s, written, 26)
	check := newOrderChecker(t)
	for k, n := range written {
		check.next[k] = n - 2
	}
	g = newGroup(t, s, shardlog.WorkerConfig{})
	g.start("w")
	g.see(check, 26)
	shards, err := s.DescribeGroup(ctx, "app", nil)
	require.NoError(t, err)
	require.Len(t, shards, 3)
	groups, err := s.ListGroups(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"app"}, groups)
}

// firstSeen checks, per key, that each record is first delivered after
// every earlier record of its key: at-least-once delivery may repeat
// records, but never skip ahead, across failovers and reshards.
type firstSeen struct {
	t    *testing.T
	next map[string]int
	seen int
}

func (f *firstSeen) see(d string) {
	key, idx, _ := strings.Cut(d, "/")
	i, _ := strconv.Atoi(idx)
	switch next := f.next[key]; {
	case i > next:
		f.t.Errorf("key %s: record %d delivered before record %d", key, i, next)
	case i == next:
		f.next[key]++
		f.seen++
	}
}

// TestGroupStorm: three workers joining and leaving while producers write
// and the stream splits and merges; every record is processed, and no key
// ever skips ahead.
func TestGroupStorm(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithShardLimit(1000))
	s := newStream(t, a, "s", 4)
	const producers, perProducer = 4, 500
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perProducer {
				key := fmt.Sprintf("p%d-k%d", p, i%5)
				if _, err := s.Put(ctx, shardlog.PutInput{PartitionKey: key, Data: fmt.Appendf(nil, "%s/%d", key, i/5)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	g := newGroup(t, s, shardlog.WorkerConfig{FailoverTime: 3 * time.Second})
	g.start("A")
	g.start("B")
	seen := &firstSeen{t: t, next: map[string]int{}}
	drain := func() {
		for {
			select {
			case e := <-g.events:
				require.NotContains(t, e.kind, "failed")
				for _, d := range e.data {
					seen.see(d)
				}
			default:
				return
			}
		}
	}
	targets := []int{8, 5, 3, 6, 4}
	for round := range 10 {
		_, err := s.UpdateShardCount(ctx, targets[round%len(targets)], shardlog.UniformScaling)
		require.NoError(t, err)
		switch round {
		case 2:
			g.start("C")
		case 5:
			g.stop("A")
		case 7:
			g.start("A")
		}
		clk.Advance(time.Second)
		drain()
	}
	wg.Wait()
	for seen.seen < producers*perProducer {
		clk.Advance(time.Second)
		e := g.next()
		require.NotContains(t, e.kind, "failed")
		for _, d := range e.data {
			seen.see(d)
		}
	}
}

// TestGroupWithEnhancedFanOut: a group that subscribes reads like one that
// polls, parents first, and subscribes again when a subscription's five
// minutes are up.
func TestGroupWithEnhancedFanOut(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 2)
	written := map[string]int{}
	writeKeys(t, s, written, 100)
	require.NoError(t, errOf(s.SplitShard(ctx, shard0, "12345678901234567890")))
	writeKeys(t, s, written, 100)
	g := newGroup(t, s, shardlog.WorkerConfig{EnhancedFanOut: true})
	g.start("w")
	check := newOrderChecker(t)
	g.see(check, 200)
	consumers, err := s.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{})
	require.NoError(t, err)
	require.Len(t, consumers.Consumers, 1)
	require.Equal(t, "app", consumers.Consumers[0].ConsumerName)

	clk.Advance(5 * time.Minute) // every subscription ends
	writeKeys(t, s, written, 100)
	g.see(check, 100)
	require.Equal(t, 300, check.count())
}

// userRecorder processes user records: it reports their data with their
// sub-sequence numbers, and checkpoints at the one whose data is
// checkpointAt.
type userRecorder struct {
	recorder
	checkpointAt string
}

func (r *userRecorder) ProcessRecords(in shardlog.ProcessRecordsInput) {
	e := event{kind: "records", worker: r.worker, shard: r.shard}
	for _, u := range in.UserRecords {
		e.data = append(e.data, fmt.Sprintf("%s@%d", u.Data, u.SubSequenceNumber))
		if string(u.Data) == r.checkpointAt {
			if err := in.Checkpointer.CheckpointUserRecord(context.Background(), u); err != nil {
				e.kind = "checkpoint failed: " + err.Error()
			}
		}
	}
	r.events <- e
}

// TestGroupDeaggregates: user records come out of KPL aggregates in order,
// with their sub-sequence numbers; a checkpoint inside an aggregate resumes
// with the aggregate's next user record.
func TestGroupDeaggregates(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	agg := func(data ...string) shardlog.PutInput {
		var in []shardlog.PutInput
		for _, d := range data {
			in = append(in, shardlog.PutInput{PartitionKey: "k-" + d, Data: []byte(d)})
		}
		return shardlog.PutInput{PartitionKey: "k", Data: shardlog.AggregateRecords(in)}
	}
	for _, in := range []shardlog.PutInput{agg("a", "b", "c"), {PartitionKey: "k", Data: []byte("plain")}, agg("d", "e")} {
		_, err := s.Put(ctx, in)
		require.NoError(t, err)
	}
	g := newGroup(t, s, shardlog.WorkerConfig{Deaggregate: true})
	start := func(checkpointAt string) {
		g.run("w", func(shardID string) shardlog.RecordProcessor {
			return &userRecorder{recorder: recorder{worker: "w", shard: shardID, events: g.events}, checkpointAt: checkpointAt}
		})
	}
	start("b")
	var got []string
	for len(got) < 6 {
		if e := g.next(); e.kind == "records" {
			got = append(got, e.data...)
		} else {
			require.NotContains(t, e.kind, "failed")
		}
	}
	require.Equal(t, []string{"a@0", "b@1", "c@2", "plain@0", "d@0", "e@1"}, got)
	g.stop("w")

	run := func(checkpointAt string, n int) []string {
		start(checkpointAt)
		var got []string
		for len(got) < n {
			if e := g.next(); e.kind == "records" {
				got = append(got, e.data...)
			}
		}
		g.stop("w")
		return got
	}
	require.Equal(t, []string{"c@2", "plain@0", "d@0", "e@1"}, run("c", 4), "after b, inside the first aggregate")
	require.Equal(t, []string{"plain@0", "d@0", "e@1"}, run("d", 3), "after c, the first aggregate's last")
	require.Equal(t, []string{"d@0", "e@1"}, run("", 2), "d, an aggregate's first, is checkpointed as before the aggregate")
}

// TestGroupDropsUserRecordsOfOtherShards: an aggregate made before a split
// holds user records of both children; each child's processor gets only
// its own, as with the Kinesis Client Library.
func TestGroupDropsUserRecordsOfOtherShards(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	const mid = "170141183460469231731687303715884105728" // 2^127
	require.NoError(t, errOf(s.SplitShard(ctx, shard0, mid)))
	data := shardlog.AggregateRecords([]shardlog.PutInput{
		{PartitionKey: "x", ExplicitHashKey: "5", Data: []byte("low")},
		{PartitionKey: "x", ExplicitHashKey: "170141183460469231731687303715884105733", Data: []byte("high")},
	})
	_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "x", ExplicitHashKey: "1", Data: data}) // to the low child
	require.NoError(t, err)
	g := newGroup(t, s, shardlog.WorkerConfig{Deaggregate: true})
	g.run("w", func(shardID string) shardlog.RecordProcessor {
		return &userRecorder{recorder: recorder{worker: "w", shard: shardID, events: g.events}}
	})
	for {
		if e := g.next(); e.kind == "records" {
			require.Equal(t, "shardId-000000000001", e.shard)
			require.Equal(t, []string{"low@0"}, e.data)
			return
		}
	}
}

// TestGroupFanOutStealEndsTheOldSubscription: in enhanced fan-out mode, the
// worker a lease was stolen from stops as soon as the thief's subscription
// takes the shard over, before its own renewal: the two do not take the
// shard from each other.
func TestGroupFanOutStealEndsTheOldSubscription(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 2)
	g := newGroup(t, s, shardlog.WorkerConfig{EnhancedFanOut: true, FailoverTime: 30 * time.Second})
	g.start("A")
	for range 2 {
		require.Equal(t, "init", g.next().kind)
	}
	// A's subscriptions are open (two timers each, beside its pass): B's
	// comes second, as the test means it to.
	require.NoError(t, clk.BlockUntil(ctx, 1+2*2))
	g.start("B")
	require.Equal(t, event{kind: "init", worker: "B", shard: "shardId-000000000001", seq: g.initSeq(s, 1)}, g.next())
	// B's subscription waits out the five-second rule: it sleeps on the
	// clock, beside the workers' passes and A's subscriptions' two timers.
	require.NoError(t, clk.BlockUntil(ctx, 2+2*2+1))
	clk.Advance(6 * time.Second) // B takes the shard over; A's renewal is 4 s away
	require.Equal(t, event{kind: "leaselost", worker: "A", shard: "shardId-000000000001"}, g.next())

	put(t, s, "k", "after") // to whichever shard: each has one reader
	e := g.next()
	require.Equal(t, []string{"after"}, e.data)
}

// TestGroupFanOutLoserStopsAtOnce: a worker whose subscription comes
// second because the worker that stole its lease subscribed first stops
// at once, rather than take the shard back five seconds later.
func TestGroupFanOutLoserStopsAtOnce(t *testing.T) {
	for _, api := range []bool{false, true} {
		t.Run(fmt.Sprint("api=", api), func(t *testing.T) { testFanOutLoser(t, api) })
	}
}

func testFanOutLoser(t *testing.T, api bool) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 2)
	// A's first subscription to shard 1 fails: A backs off a second.
	_, err := a.InjectFault(shardlog.Fault{Operation: "SubscribeToShard", StreamName: "s", ShardID: "shardId-000000000001",
		Err: shardlog.ErrInternalFailure})
	require.NoError(t, err)
	cfg := shardlog.WorkerConfig{EnhancedFanOut: true, FailoverTime: 30 * time.Second}
	g := newGroup(t, s, cfg)
	if api {
		g = newAPIGroup(t, s, clk, cfg)
	}
	g.start("A")
	for range 2 {
		require.Equal(t, "init", g.next().kind)
	}
	// A's pass, its subscription to shard 0 (two timers), its back-off.
	require.NoError(t, clk.BlockUntil(ctx, 1+2+1))
	g.start("B") // steals shard 1 and subscribes to it first
	start := g.initSeq(s, 1)
	if api {
		start = shardlog.SequenceNumber{} // a KCL start, not a number
	}
	require.Equal(t, event{kind: "init", worker: "B", shard: "shardId-000000000001", seq: start}, g.next())
	require.NoError(t, clk.BlockUntil(ctx, 1+2+1+1+2)) // and B's pass and subscription
	clk.Advance(time.Second)                           // A tries again: ResourceInUse, and the lease is B's
	require.Equal(t, event{kind: "leaselost", worker: "A", shard: "shardId-000000000001"}, g.next())
}
