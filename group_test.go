package shardlog_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"slices"
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

func (r *recorder) Initialize(_ context.Context, in shardlog.InitializeInput) error {
	r.events <- event{kind: "init", worker: r.worker, shard: in.ShardID, seq: in.Checkpoint}
	return nil
}

func (r *recorder) ProcessRecords(ctx context.Context, in shardlog.ProcessRecordsInput) error {
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
		if err := in.Checkpointer.Checkpoint(ctx); err != nil && !errors.Is(err, shardlog.ErrLeaseLost) {
			e.kind = "checkpoint failed: " + err.Error()
		}
	}
	r.events <- e
	return nil
}

func (r *recorder) LeaseLost(context.Context, shardlog.LeaseLostInput) {
	r.events <- event{kind: "leaselost", worker: r.worker, shard: r.shard}
}

func (r *recorder) ShardEnded(ctx context.Context, in shardlog.ShardEndedInput) error {
	if r.endWithoutCheckpoint == nil || !r.endWithoutCheckpoint.CompareAndSwap(false, true) {
		if err := in.Checkpointer.Checkpoint(ctx); err != nil && !errors.Is(err, shardlog.ErrLeaseLost) {
			panic(err)
		}
	}
	r.events <- event{kind: "ended", worker: r.worker, shard: r.shard}
	return nil
}

func (r *recorder) ShutdownRequested(context.Context, shardlog.ShutdownRequestedInput) error {
	r.events <- event{kind: "shutdown", worker: r.worker, shard: r.shard}
	return nil
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
			done <- shardlog.RunWorker(ctx, g.s, cfg)
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

// successors returns who asked for each lease of the group.
func successors(t *testing.T, s *shardlog.Stream) map[string]string {
	t.Helper()
	shards, err := s.DescribeGroup(context.Background(), "app", nil)
	require.NoError(t, err)
	out := map[string]string{}
	for _, g := range shards {
		out[g.Key] = g.Successor
	}
	return out
}

// settle runs the passes that leases changing hands asked for (they wait
// on the clock, which a test moves) until cond holds, collecting the
// events meanwhile; it fails the test if cond does not come to hold.
func (g *group) settle(clk *shardlog.ManualClock, cond func([]event) bool) []event {
	g.t.Helper()
	var seen []event
	for deadline := time.Now().Add(10 * time.Second); !cond(seen); {
		require.True(g.t, time.Now().Before(deadline), "the group did not settle; events %v", seen)
		clk.Advance(0)
		select {
		case e := <-g.events:
			seen = append(seen, e)
		default:
			runtime.Gosched()
		}
	}
	return seen
}

// saw reports whether events hold one of kind, by worker, for shard ("":
// any).
func saw(events []event, kind, worker, shard string) bool {
	for _, e := range events {
		if e.kind == kind && e.worker == worker && (shard == "" || e.shard == shard) {
			return true
		}
	}
	return false
}

// owners counts the group's leases by owner, leaving out ended ones.
func owners(t *testing.T, s *shardlog.Stream) map[string]int {
	t.Helper()
	shards, err := s.DescribeGroup(context.Background(), "app", nil)
	if errors.Is(err, shardlog.ErrResourceNotFound) {
		return map[string]int{} // no worker has made the leases yet
	}
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
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "12345678901234567890"})))
	writeKeys(t, s, written, 100)
	_, err := s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 5, ScalingType: shardlog.UniformScaling})
	require.NoError(t, err)
	writeKeys(t, s, written, 100)

	g := newGroup(t, s, shardlog.WorkerConfig{})
	g.start("w1")
	check := newOrderChecker(t)
	g.see(check, 300)
	_, err = s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 3, ScalingType: shardlog.UniformScaling})
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

	// B asks A for the newest shard; A's processor has its say
	// (ShutdownRequested, with a checkpointer), then A hands it over, and
	// B asks for the next: the two balance without the clock moving.
	g.start("B")
	events := g.settle(clk, func(seen []event) bool {
		return saw(seen, "init", "B", "shardId-000000000007") && reflect.DeepEqual(owners(t, s), map[string]int{"A": 4, "B": 4})
	})
	require.True(t, saw(events, "shutdown", "A", "shardId-000000000007"), "A's processor was asked to shut down first: %v", events)
	require.False(t, saw(events, "leaselost", "A", ""), "nothing was taken from A without its say: %v", events)

	g.start("C") // a third joins: the busiest give one each until it has its share
	g.settle(clk, func([]event) bool {
		held := owners(t, s)
		return len(held) == 3 && held["C"] >= 2
	})
	requireBalanced(t, owners(t, s), 3, 8)
	g.stop("C") // frees its leases, telling the others: they take them at once
	g.settle(clk, func([]event) bool { return reflect.DeepEqual(owners(t, s), map[string]int{"A": 4, "B": 4}) })

	g.stop("A")
	g.settle(clk, func([]event) bool { return reflect.DeepEqual(owners(t, s), map[string]int{"B": 8}) })
}

// TestGroupTakesALeaseNotHandedOver: a worker that does not hand a lease
// over within the failover time of being asked loses it all the same.
func TestGroupTakesALeaseNotHandedOver(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 2)
	g := newGroup(t, s, shardlog.WorkerConfig{FailoverTime: 3 * time.Second})
	hold := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release) // before the group's: a stuck processor would hold A's stop
	g.start("A", func(r *recorder) {
		if r.shard == "shardId-000000000001" {
			r.hold = hold // stuck in ProcessRecords
		}
	})
	for range 2 {
		require.Equal(t, "init", g.next().kind)
	}
	put(t, s, "k", "x") // to whichever shard
	putTo(t, s, "shardId-000000000001", "stuck")
	g.start("B") // asks for shard 1
	g.settle(clk, func([]event) bool { return successors(t, s)["shardId-000000000001"] == "B" })
	clk.Advance(time.Second)
	require.Equal(t, map[string]int{"A": 2}, owners(t, s), "asked, not yet taken")
	clk.Advance(2 * time.Second) // the failover time since B asked
	g.settle(clk, func([]event) bool { return reflect.DeepEqual(owners(t, s), map[string]int{"A": 1, "B": 1}) })
	release()
	events := g.settle(clk, func(seen []event) bool { return saw(seen, "leaselost", "A", "shardId-000000000001") })
	require.False(t, saw(events, "shutdown", "A", "shardId-000000000001"), "%v", events)
}

// TestGroupRestartTakesBackItsLeases: a worker restarted under its old ID
// takes back every lease that names it at once, also past its fair share,
// rather than leave some to expire unprocessed.
func TestGroupRestartTakesBackItsLeases(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 6)
	store := shardlog.NewMemoryLeaseStore()
	for i := range 6 {
		owner := "A" // as A left them when it crashed...
		if i >= 4 {
			owner = "B" // ...beside B's, which B still renews
		}
		l := shardlog.Lease{Key: fmt.Sprintf("shardId-%012d", i), Owner: owner, Counter: 7, Start: shardlog.TrimHorizon}
		require.NoError(t, store.Swap(ctx, "s/app", nil, l))
	}
	g := newAPIGroup(t, s, clk, shardlog.WorkerConfig{FailoverTime: 30 * time.Second, Leases: store})
	g.start("A") // its first pass, before the clock moves
	var shards []string
	for range 4 {
		e := g.next()
		require.Equal(t, "init", e.kind)
		shards = append(shards, e.shard)
	}
	slices.Sort(shards)
	require.Equal(t, []string{"shardId-000000000000", "shardId-000000000001", "shardId-000000000002", "shardId-000000000003"}, shards)
}

// TestGroupRefusesADuplicateWorkerID: two workers under one ID, as two
// processes configured alike, do not take the shards from each other for
// ever: a worker that finds its ID in use stops with ErrWorkerIDInUse.
func TestGroupRefusesADuplicateWorkerID(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 4)
	procs := func(string) shardlog.RecordProcessor { return &recorder{events: make(chan event, 1<<10)} }
	cfg := shardlog.WorkerConfig{Application: "app", WorkerID: "same", NewProcessor: procs, FailoverTime: 3 * time.Second}
	errs := make(chan error, 2)
	ctx, cancel := context.WithCancel(context.Background())
	pending := 2
	t.Cleanup(func() { // also when the test fails: no worker outlives it
		cancel()
		for ; pending > 0; pending-- {
			<-errs
		}
	})
	for range pending {
		go func() { errs <- shardlog.RunWorker(ctx, s, cfg) }()
	}
	var err error
	for deadline := time.Now().Add(10 * time.Second); err == nil; {
		require.True(t, time.Now().Before(deadline), "neither worker noticed the other")
		clk.Advance(time.Second)
		select {
		case err = <-errs:
			pending--
		default:
			runtime.Gosched()
		}
	}
	require.ErrorIs(t, err, shardlog.ErrWorkerIDInUse)
	require.ErrorContains(t, err, `"same"`)
}

// TestDefaultWorkerIDsDiffer: workers left to name themselves get IDs of
// their own, which say where they run.
func TestDefaultWorkerIDsDiffer(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 4)
	procs := func(string) shardlog.RecordProcessor { return &recorder{events: make(chan event, 1<<10)} }
	for range 2 {
		runWorker(t, s, shardlog.WorkerConfig{NewProcessor: procs, FailoverTime: 3 * time.Second})
	}
	var held map[string]int
	for deadline := time.Now().Add(10 * time.Second); len(held) < 2; {
		require.True(t, time.Now().Before(deadline), "%v", held)
		clk.Advance(time.Second)
		runtime.Gosched()
		held = owners(t, s)
		delete(held, "") // a lease between owners, as one is stolen
	}
	host, _ := os.Hostname()
	for id := range held {
		require.True(t, strings.HasPrefix(id, host+"-"+strconv.Itoa(os.Getpid())+"-"), id)
	}
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

// cutOff starts worker A on a stream of shards shards, once it holds them
// all cut off from its lease store (its writes fail). The group's next
// workers use the same store unless g.cfg.Leases is set to nil: the
// account's, which A no longer reaches.
func cutOff(t *testing.T, shards int, failover time.Duration) (*shardlog.Stream, *shardlog.ManualClock, *group) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", shards)
	cut := &failingStore{LeaseStore: a.LeaseStore()}
	g := newGroup(t, s, shardlog.WorkerConfig{FailoverTime: failover, Leases: cut})
	g.start("A")
	for range shards {
		require.Equal(t, "init", g.next().kind)
	}
	cut.failing.Store(true)
	return s, clk, g
}

// TestGroupTakesOverFromAWorkerThatStopped: leases whose holder stopped
// renewing them are taken once they have not moved for the failover time,
// not before; the holder, unable to renew for as long, lets them go.
func TestGroupTakesOverFromAWorkerThatStopped(t *testing.T) {
	s, clk, g := cutOff(t, 4, 9*time.Second)
	g.cfg.Leases = nil // the account's store, which A no longer reaches
	g.start("B")       // asks A for one, which A cannot hand over
	g.settle(clk, func([]event) bool { return successors(t, s)["shardId-000000000003"] == "B" })
	clk.Advance(3 * time.Second)
	require.Equal(t, map[string]int{"A": 4}, owners(t, s))
	clk.Advance(3 * time.Second)
	require.Equal(t, map[string]int{"A": 4}, owners(t, s), "A's leases have not expired yet")
	clk.Advance(3 * time.Second) // 9 s since A last renewed
	require.Equal(t, map[string]int{"B": 4}, owners(t, s))

	// A lets every lease go: it could not renew them; the one B asked for
	// it may have begun to hand over (its processor then shut down).
	stopped := map[string]string{}
	for len(stopped) < 4 {
		e := g.next()
		if e.worker == "A" && (e.kind == "leaselost" || e.kind == "shutdown") {
			stopped[e.shard] = e.kind
		}
	}
	for shard, kind := range stopped {
		if shard != "shardId-000000000003" {
			require.Equal(t, "leaselost", kind, shard)
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
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "12345678901234567890"})))
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
	for name, tc := range map[string]struct {
		cfg   shardlog.WorkerConfig
		field string
	}{
		"no application":   {shardlog.WorkerConfig{NewProcessor: proc}, "Application"},
		"bad application":  {shardlog.WorkerConfig{Application: "a b", NewProcessor: proc}, "Application"},
		"no processor":     {shardlog.WorkerConfig{Application: "app"}, "NewProcessor"},
		"at a sequence":    {shardlog.WorkerConfig{Application: "app", NewProcessor: proc, InitialPosition: shardlog.StartingPosition{Type: shardlog.AtSequenceNumber}}, "InitialPosition"},
		"too many records": {shardlog.WorkerConfig{Application: "app", NewProcessor: proc, MaxRecords: 10001}, "MaxRecords"},
		"short failover":   {shardlog.WorkerConfig{Application: "app", NewProcessor: proc, FailoverTime: time.Millisecond}, "FailoverTime"},
		"negative idle":    {shardlog.WorkerConfig{Application: "app", NewProcessor: proc, IdleInterval: -time.Second}, "IdleInterval"},
	} {
		t.Run(name, func(t *testing.T) {
			err := shardlog.RunWorker(ctx, s, tc.cfg)
			require.ErrorIs(t, err, shardlog.ErrInvalidConfig)
			require.ErrorContains(t, err, "WorkerConfig: "+tc.field+" ")
			var e *shardlog.Error
			require.False(t, errors.As(err, &e), "a Go error, not an AWS one: %v", err)
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
	go func() { done <- shardlog.RunWorker(ctx, s, cfg) }()
	require.NoError(t, a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "s"}}))
	require.ErrorIs(t, <-done, shardlog.ErrResourceNotFound)

	s = newStream(t, a, "s2", 2)
	go func() { done <- shardlog.RunWorker(ctx, s, cfg) }()
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
		_, err := s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: targets[round%len(targets)], ScalingType: shardlog.UniformScaling})
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
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "12345678901234567890"})))
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

func (r *userRecorder) ProcessRecords(ctx context.Context, in shardlog.ProcessRecordsInput) error {
	e := event{kind: "records", worker: r.worker, shard: r.shard}
	for _, u := range in.UserRecords {
		e.data = append(e.data, fmt.Sprintf("%s@%d", u.Data, u.SubSequenceNumber))
		if string(u.Data) == r.checkpointAt {
			if err := in.Checkpointer.CheckpointUserRecord(ctx, u); err != nil {
				e.kind = "checkpoint failed: " + err.Error()
			}
		}
	}
	r.events <- e
	return nil
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
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: mid})))
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

// TestGroupFanOutHandOff: in enhanced fan-out mode, a worker asked for a
// lease ends its subscription and lets its processor checkpoint before it
// hands the lease over; the successor subscribes after that checkpoint, and
// each record reaches one reader.
func TestGroupFanOutHandOff(t *testing.T) {
	for _, api := range []bool{false, true} {
		t.Run(fmt.Sprint("api=", api), func(t *testing.T) {
			a, clk := newAccount(t)
			s := newStream(t, a, "s", 2)
			cfg := shardlog.WorkerConfig{EnhancedFanOut: true, FailoverTime: 30 * time.Second}
			g := newGroup(t, s, cfg)
			if api {
				g = newAPIGroup(t, s, clk, cfg)
			}
			g.start("A")
			for range 2 {
				require.Equal(t, "init", g.next().kind)
			}
			putTo(t, s, "shardId-000000000001", "before")
			g.settle(clk, func(seen []event) bool { return saw(seen, "records", "A", "shardId-000000000001") })
			g.start("B")
			events := g.settle(clk, func(seen []event) bool { return saw(seen, "init", "B", "shardId-000000000001") })
			require.True(t, saw(events, "shutdown", "A", "shardId-000000000001"), "%v", events)
			require.False(t, saw(events, "leaselost", "A", ""), "%v", events)

			// B's subscription waits out the five-second rule on the clock.
			putTo(t, s, "shardId-000000000001", "after")
			var got []string
			for deadline := time.Now().Add(10 * time.Second); len(got) == 0; {
				require.True(t, time.Now().Before(deadline), "B never read")
				clk.Advance(time.Second)
				select {
				case e := <-g.events:
					if e.kind == "records" {
						require.Equal(t, "B", e.worker, "%v", e)
						got = e.data
					}
				default:
					runtime.Gosched()
				}
			}
			require.Equal(t, []string{"after"}, got, "B resumed after A's checkpoint")
		})
	}
}

// putTo puts a record to one shard, by its starting hash key.
func putTo(t *testing.T, s *shardlog.Stream, shardID, data string) {
	t.Helper()
	out, err := s.ListShards(context.Background(), shardlog.ListShardsInput{})
	require.NoError(t, err)
	for _, sh := range out.Shards {
		if sh.ShardID == shardID {
			r, err := s.Put(context.Background(), shardlog.PutInput{PartitionKey: "k", Data: []byte(data), ExplicitHashKey: sh.HashKeyRange.StartingHashKey})
			require.NoError(t, err)
			require.Equal(t, shardID, r.ShardID)
			return
		}
	}
	t.Fatalf("no shard %s", shardID)
}

// TestGroupWithdrawnAskIsNoDuplicate: a worker that asked for a lease and
// stops before it is handed over withdraws its ask; the owner carries on,
// and does not take the withdrawal for a second worker under its own ID.
func TestGroupWithdrawnAskIsNoDuplicate(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 2)
	g := newGroup(t, s, shardlog.WorkerConfig{FailoverTime: 30 * time.Second})
	hold := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release)
	g.start("A", func(r *recorder) {
		if r.shard == "shardId-000000000001" {
			r.hold = hold // cannot hand over yet
		}
	})
	for range 2 {
		require.Equal(t, "init", g.next().kind)
	}
	putTo(t, s, "shardId-000000000001", "stuck")
	g.start("B") // asks for shard 1
	g.settle(clk, func([]event) bool { return successors(t, s)["shardId-000000000001"] == "B" })
	g.stop("B") // and withdraws
	require.Empty(t, successors(t, s)["shardId-000000000001"])
	for range 3 {
		clk.Advance(time.Second) // A's passes see the withdrawal
		g.settle(clk, func([]event) bool { return true })
	}
	release()
	g.settle(clk, func([]event) bool { return reflect.DeepEqual(owners(t, s), map[string]int{"A": 2}) })
	g.stop("A") // without ErrWorkerIDInUse
}
