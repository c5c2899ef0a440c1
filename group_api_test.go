package shardlog_test

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

// apiOnly hides a *Stream behind StreamAPI: RunWorker reads it as it reads
// Amazon Kinesis, with ListShards, GetRecords and SubscribeToShard.
type apiOnly struct{ shardlog.StreamAPI }

// iteratorWatch is a StreamAPI that reports the shard of every iterator it
// hands out, once it has.
type iteratorWatch struct {
	shardlog.StreamAPI
	taken chan string
}

func (w iteratorWatch) GetShardIterator(ctx context.Context, shardID string, p shardlog.StartingPosition) (string, error) {
	it, err := w.StreamAPI.GetShardIterator(ctx, shardID, p)
	if err == nil {
		select {
		case w.taken <- shardID:
		default: // the test has seen enough
		}
	}
	return it, err
}

// newAPIGroup runs a group on s through its StreamAPI, on the account's
// clock, with leases in memory unless cfg names a store.
func newAPIGroup(t *testing.T, s *shardlog.Stream, clk *shardlog.ManualClock, cfg shardlog.WorkerConfig) *group {
	cfg.Clock = clk
	if cfg.Leases == nil {
		cfg.Leases = shardlog.NewMemoryLeaseStore()
	}
	g := newGroup(t, s, cfg)
	g.api = apiOnly{s}
	return g
}

// poll collects events until n records have been processed, advancing the
// clock by a poll interval whenever g.idle timers wait (by default, a
// shard consumer's next poll beside the worker's pass timer). A consumer
// that the clock leaves behind can see time leap: set g.idle when that
// matters.
func (g *group) poll(clk *shardlog.ManualClock, n int) []event {
	g.t.Helper()
	var out []event
	for got := 0; got < n; {
		select {
		case e := <-g.events:
			require.NotContains(g.t, e.kind, "failed")
			got += len(e.data)
			out = append(out, e)
			continue
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := clk.BlockUntil(ctx, max(g.idle, 2))
		cancel()
		require.NoError(g.t, err, "no shard consumer polls; %d of %d records seen", got, n)
		clk.Advance(time.Second)
	}
	return out
}

// pollData is poll's records' data, in the order processed.
func (g *group) pollData(clk *shardlog.ManualClock, n int) []string {
	var out []string
	for _, e := range g.poll(clk, n) {
		out = append(out, e.data...)
	}
	return out
}

func leasesOf(t *testing.T, store shardlog.LeaseStore, table string) map[string]shardlog.Lease {
	t.Helper()
	ls, err := store.Leases(ctx, table)
	require.NoError(t, err)
	out := map[string]shardlog.Lease{}
	for _, l := range ls {
		out[l.Key] = l
	}
	return out
}

// TestGroupOnStreamAPIReadsParentsBeforeChildren: a group on a StreamAPI
// processes every record once, in order per key, across splits and
// merges; its leases start at TRIM_HORIZON, as the KCL's, and end at
// SHARD_END.
func TestGroupOnStreamAPIReadsParentsBeforeChildren(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 2)
	written := map[string]int{}
	writeKeys(t, s, written, 100)
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "12345678901234567890"})))
	writeKeys(t, s, written, 100)
	_, err := s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 5, ScalingType: shardlog.UniformScaling})
	require.NoError(t, err)
	writeKeys(t, s, written, 100)

	store := shardlog.NewMemoryLeaseStore()
	g := newAPIGroup(t, s, clk, shardlog.WorkerConfig{Leases: store, MaxRecords: 7})
	g.start("w1")
	check := newOrderChecker(t)
	for _, d := range g.pollData(clk, 300) {
		check.see([]byte(d))
	}
	_, err = s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 3, ScalingType: shardlog.UniformScaling})
	require.NoError(t, err)
	writeKeys(t, s, written, 100)
	for _, d := range g.pollData(clk, 100) {
		check.see([]byte(d))
	}
	require.Equal(t, 400, check.count())

	// A lease checkpointed at SHARD_END is let go just after: wait for
	// the last of those to be.
	var leases map[string]shardlog.Lease
	for deadline := time.Now().Add(10 * time.Second); ; {
		leases = leasesOf(t, store, "s/app")
		held := 0
		for _, l := range leases {
			if l.ShardEnd && l.Owner != "" {
				held++
			}
		}
		if held == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "%d ended leases are still held", held)
		clk.Advance(0)
		runtime.Gosched()
	}
	require.Len(t, leases, 22, "a lease for every shard")
	out, err := s.ListShards(ctx, shardlog.ListShardsInput{})
	require.NoError(t, err)
	for _, sh := range out.Shards {
		l := leases[sh.ShardID]
		closed := !sh.SequenceNumberRange.EndingSequenceNumber.IsZero()
		require.Equal(t, closed, l.ShardEnd, sh.ShardID)
		if closed {
			require.Equal(t, "", l.Owner, "%s: ended leases are free", sh.ShardID)
		} else {
			require.Equal(t, "w1", l.Owner, sh.ShardID)
		}
		var parents []string
		for _, p := range []string{sh.ParentShardID, sh.AdjacentParentShardID} {
			if p != "" {
				parents = append(parents, p)
			}
		}
		require.Equal(t, parents, l.Parents, sh.ShardID)
	}
}

// TestGroupOnStreamAPIStartsAtLatest: a new group at LATEST skips what was
// written before its shards' first reads; closed shards end at once.
func TestGroupOnStreamAPIStartsAtLatest(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	put(t, s, "k", "old")
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "12345678901234567890"})))
	put(t, s, "k", "old too")
	store := shardlog.NewMemoryLeaseStore()
	g := newAPIGroup(t, s, clk, shardlog.WorkerConfig{Leases: store, InitialPosition: shardlog.StartingPosition{Type: shardlog.Latest}})
	watch := iteratorWatch{StreamAPI: s, taken: make(chan string, 16)}
	g.api = watch
	g.start("w")
	for range 2 {
		require.Equal(t, "init", g.next().kind)
	}
	// LATEST is where a shard is when its first iterator is taken: wait for
	// both children's before writing.
	for taken := map[string]bool{}; len(taken) < 2; {
		select {
		case id := <-watch.taken:
			taken[id] = true
		case <-time.After(time.Minute):
			t.Fatalf("iterators taken for %v only", taken)
		}
	}
	// From here the clock moves only while the worker and both children
	// wait: one runnable but not yet running would otherwise see time leap
	// past its iterator's five minutes and start again at LATEST, past "new".
	g.idle = 3
	leases := leasesOf(t, store, "s/app")
	require.True(t, leases["shardId-000000000000"].ShardEnd, "the parent closed before the group began")
	require.Equal(t, shardlog.Latest, leases["shardId-000000000001"].Start)
	require.Equal(t, shardlog.Latest, leases["shardId-000000000002"].Start)

	put(t, s, "k", "new")
	require.Equal(t, []string{"new"}, g.pollData(clk, 1))
}

// TestGroupOnStreamAPIStartsAtTimestamp: a new group at AT_TIMESTAMP reads
// the records that arrived from then on: shards closed before it end at
// once, shards born after it are read whole.
func TestGroupOnStreamAPIStartsAtTimestamp(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 2)
	put(t, s, "k", "before")
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "12345678901234567890"}))) // 0 closes before, into 2 and 3
	clk.Advance(time.Minute)
	at := clk.Now()
	written := map[string]int{}
	writeKeys(t, s, written, 50)
	clk.Advance(time.Second)
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: "shardId-000000000001", NewStartingHashKey: "212345678901234567890123456789012345678"}))) // 1 closes after, into 4 and 5
	writeKeys(t, s, written, 50)

	store := shardlog.NewMemoryLeaseStore()
	g := newAPIGroup(t, s, clk, shardlog.WorkerConfig{Leases: store, InitialPosition: shardlog.StartingPosition{Type: shardlog.AtTimestamp, Timestamp: at}})
	g.start("w")
	check := newOrderChecker(t)
	for _, d := range g.pollData(clk, 100) {
		check.see([]byte(d))
	}
	require.Equal(t, 100, check.count(), "not the record from before")

	leases := leasesOf(t, store, "s/app")
	l := leases["shardId-000000000000"]
	require.True(t, l.ShardEnd && l.Counter == 0, "closed before the timestamp, ended without being taken: %+v", l)
	for _, id := range []string{"shardId-000000000001", "shardId-000000000002", "shardId-000000000003"} {
		require.Equal(t, shardlog.AtTimestamp, leases[id].Start, "%s: open at the timestamp", id)
	}
	for _, id := range []string{"shardId-000000000004", "shardId-000000000005"} {
		require.Equal(t, shardlog.TrimHorizon, leases[id].Start, "%s: born after it", id)
	}
}

// TestGroupOnStreamAPIResumesAfterTheCheckpoint: a worker that starts
// again resumes after its group's checkpoints: nothing is processed twice.
func TestGroupOnStreamAPIResumesAfterTheCheckpoint(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 3)
	written := map[string]int{}
	writeKeys(t, s, written, 60)
	g := newAPIGroup(t, s, clk, shardlog.WorkerConfig{})
	g.start("w")
	check := newOrderChecker(t)
	for _, d := range g.pollData(clk, 60) {
		check.see([]byte(d))
	}
	g.stop("w")
	writeKeys(t, s, written, 60)
	g.start("w")
	var inits []shardlog.SequenceNumber
	for _, e := range g.poll(clk, 60) {
		if e.kind == "init" {
			inits = append(inits, e.seq)
		}
		for _, d := range e.data {
			check.see([]byte(d))
		}
	}
	require.Equal(t, 120, check.count())
	require.Len(t, inits, 3, "every shard started again")
	require.Empty(t, slices.DeleteFunc(inits, func(seq shardlog.SequenceNumber) bool { return !seq.IsZero() }),
		"every shard resumes at a checkpoint")
}

// TestGroupOnStreamAPIWithEnhancedFanOut: a group that subscribes through
// the StreamAPI registers its consumer and reads parents before children.
func TestGroupOnStreamAPIWithEnhancedFanOut(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 2)
	written := map[string]int{}
	writeKeys(t, s, written, 100)
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "12345678901234567890"})))
	writeKeys(t, s, written, 100)
	g := newAPIGroup(t, s, clk, shardlog.WorkerConfig{EnhancedFanOut: true})
	g.start("w")
	check := newOrderChecker(t)
	g.see(check, 200)
	c, err := s.DescribeStreamConsumer(ctx, "app")
	require.NoError(t, err)
	require.Equal(t, shardlog.ConsumerActive, c.ConsumerStatus)

	clk.Advance(5 * time.Minute) // every subscription ends
	writeKeys(t, s, written, 100)
	g.see(check, 100)
	require.Equal(t, 300, check.count())
}

// TestGroupOnStreamAPIDeaggregates: a checkpoint inside an aggregate
// resumes with the aggregate's next user record.
func TestGroupOnStreamAPIDeaggregates(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	var users []shardlog.PutInput
	for _, d := range []string{"a", "b", "c"} {
		users = append(users, shardlog.PutInput{PartitionKey: "k-" + d, Data: []byte(d)})
	}
	put(t, s, "k", string(shardlog.AggregateRecords(users)))
	put(t, s, "k", "plain")
	g := newAPIGroup(t, s, clk, shardlog.WorkerConfig{Deaggregate: true})
	run := func(checkpointAt string, n int) []string {
		g.run("w", func(shardID string) shardlog.RecordProcessor {
			return &userRecorder{recorder: recorder{worker: "w", shard: shardID, events: g.events}, checkpointAt: checkpointAt}
		})
		got := g.pollData(clk, n)
		g.stop("w")
		return got
	}
	require.Equal(t, []string{"a@0", "b@1", "c@2", "plain@0"}, run("b", 4))
	require.Equal(t, []string{"c@2", "plain@0"}, run("", 2), "after b, inside the aggregate")
}

// TestGroupOnStreamAPIBalances: two workers on a StreamAPI share its
// shards.
func TestGroupOnStreamAPIBalances(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 4)
	store := shardlog.NewMemoryLeaseStore()
	g := newAPIGroup(t, s, clk, shardlog.WorkerConfig{Leases: store, FailoverTime: 3 * time.Second})
	g.start("A")
	for range 4 {
		require.Equal(t, "init", g.next().kind)
	}
	g.start("B") // asks A for one lease a pass: A hands each over at its next
	held := map[string]int{}
	for deadline := time.Now().Add(10 * time.Second); !reflect.DeepEqual(held, map[string]int{"A": 2, "B": 2}); {
		require.True(t, time.Now().Before(deadline), "%v", held)
		clk.Advance(time.Second)
		held = map[string]int{}
		for _, l := range leasesOf(t, store, "s/app") {
			held[l.Owner]++
		}
	drain:
		for {
			select {
			case <-g.events:
			default:
				break drain
			}
		}
	}
}

// TestRunWorkerOnStreamAPI: its configuration errors, and its end with the
// stream.
func TestRunWorkerOnStreamAPI(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	processor := func(string) shardlog.RecordProcessor { return &recorder{events: make(chan event, 16)} }
	for _, tc := range []struct {
		cfg  shardlog.WorkerConfig
		want error
	}{
		{shardlog.WorkerConfig{Application: "app", NewProcessor: processor}, shardlog.ErrInvalidConfig},
		{shardlog.WorkerConfig{Application: "app", NewProcessor: processor, Leases: shardlog.NewMemoryLeaseStore(), PollInterval: -time.Second}, shardlog.ErrInvalidConfig},
		{shardlog.WorkerConfig{Application: "bad name", NewProcessor: processor, Leases: shardlog.NewMemoryLeaseStore()}, shardlog.ErrInvalidConfig},
	} {
		err := shardlog.RunWorker(ctx, apiOnly{s}, tc.cfg)
		require.ErrorIs(t, err, tc.want, fmt.Sprintf("%+v", tc.cfg))
	}

	done := make(chan error, 1)
	go func() {
		done <- shardlog.RunWorker(ctx, apiOnly{s}, shardlog.WorkerConfig{Application: "app", NewProcessor: processor,
			Leases: shardlog.NewMemoryLeaseStore(), Clock: clk})
	}()
	require.NoError(t, clk.BlockUntil(ctx, 2), "the worker runs")
	require.NoError(t, a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "s"}}))
	clk.Advance(10 * time.Second)
	require.ErrorIs(t, <-done, shardlog.ErrResourceNotFound)
}

// seeded is a LeaseStore that holds the given leases in every table it is
// first asked for, as a table another KCL application made.
type seeded struct {
	shardlog.LeaseStore
	leases []shardlog.Lease
	done   map[string]bool
}

func (s *seeded) Leases(ctx context.Context, table string) ([]shardlog.Lease, error) {
	if !s.done[table] {
		s.done[table] = true
		for _, l := range s.leases {
			if err := s.LeaseStore.Swap(ctx, table, nil, l); err != nil {
				return nil, err
			}
		}
	}
	return s.LeaseStore.Leases(ctx, table)
}

// TestGroupOnAStreamHonoursKCLStarts: an embedded group that finds leases
// with the KCL's starting positions (written on Kinesis, say) starts where
// they say.
func TestGroupOnAStreamHonoursKCLStarts(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 2)
	put(t, s, "k", "at 0")                                                                                        // shard 1
	_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", ExplicitHashKey: "0", Data: []byte("on 0 before")}) // shard 0
	require.NoError(t, err)
	clk.Advance(time.Minute)
	at := clk.Now()
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", ExplicitHashKey: "0", Data: []byte("on 0 after")})
	require.NoError(t, err)
	store := &seeded{LeaseStore: shardlog.NewMemoryLeaseStore(), done: map[string]bool{}, leases: []shardlog.Lease{
		{Key: "shardId-000000000000", Start: shardlog.AtTimestamp},
		{Key: "shardId-000000000001", Start: shardlog.Latest},
	}}
	g := newGroup(t, s, shardlog.WorkerConfig{Leases: store, InitialPosition: shardlog.StartingPosition{Type: shardlog.AtTimestamp, Timestamp: at}})
	g.start("w")
	var got []string
	for inits := 0; len(got) < 1 || inits < 2; { // shard 1 is at its latest once initialized
		e := g.next()
		if e.kind == "init" {
			inits++
		}
		got = append(got, e.data...)
	}
	require.Equal(t, []string{"on 0 after"}, got, "shard 0 from the timestamp")
	put(t, s, "k", "new")
	for got = nil; len(got) < 1; {
		got = append(got, g.next().data...)
	}
	require.Equal(t, []string{"new"}, got, "shard 1 from its latest")
}
