package shardlog

import (
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/internal/testsize"
	"github.com/shardlog/shardlog/internal/vfs"
)

// acked is a record a Put or PutBatch acknowledged: it must survive.
type acked struct {
	stream string // name/incarnation
	shard  string
	seq    SequenceNumber
	key    string
	millis int64
	at     int64 // the clock when it was put, Unix ms: its arrival time
}

// crashWorld drives a durable account through random operations and power
// cuts, and checks after every cut that everything acknowledged survived,
// unchanged and once, and nothing appeared that was never put.
type crashWorld struct {
	t       *testing.T
	r       *rand.Rand
	fs      *vfs.MemFS
	clk     *ManualClock
	opts    []Option
	a       *Account
	records map[string]acked // by data: acknowledged
	maybe   map[string]int64 // by data: put, not acknowledged (a cut or a fault), and when
	expired map[string]bool  // by data: past retention, never to be returned again
	streams map[string]bool  // names acknowledged as existing
	next    int              // data counter
	cuts    int
	reopens int
}

func (w *crashWorld) open() {
	a, err := NewAccount(append([]Option{withFS(w.fs.Process()), WithDir("/data"), WithClock(w.clk), WithoutLimits(),
		WithAccountID("123456789012"), WithSegmentSize(64 << 10), WithShardLimit(64)}, w.opts...)...)
	require.NoError(w.t, err)
	w.a = a
}

func (w *crashWorld) stream(name string) *Stream {
	s, err := w.a.Stream(StreamRef{StreamName: name})
	if err != nil {
		return nil
	}
	return s
}

func (w *crashWorld) names() []string {
	var out []string
	for n := range w.streams {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func (w *crashWorld) pick() *Stream {
	names := w.names()
	if len(names) == 0 {
		return nil
	}
	return w.stream(names[w.r.IntN(len(names))])
}

func (w *crashWorld) data() string {
	w.next++
	size := w.r.IntN(300)
	if w.r.IntN(10) == 0 {
		size = w.r.IntN(20 << 10) // some span segment files in a batch
	}
	return fmt.Sprintf("r%d-%s", w.next, make([]byte, size))
}

func (w *crashWorld) put(s *Stream) {
	d := w.data()
	key := fmt.Sprint("k", w.r.IntN(40))
	res, err := s.Put(bg, PutInput{PartitionKey: key, Data: []byte(d)})
	if err != nil {
		w.maybe[d] = w.now()
		return
	}
	w.records[d] = acked{stream: s.name, shard: res.ShardID, seq: res.SequenceNumber, key: key, millis: -1, at: w.now()}
}

func (w *crashWorld) putBatch(s *Stream) {
	batch := make([]PutInput, 1+w.r.IntN(30))
	for i := range batch {
		batch[i] = PutInput{PartitionKey: fmt.Sprint("k", w.r.IntN(40)), Data: []byte(w.data())}
	}
	res, err := s.PutBatch(bg, batch)
	for i, in := range batch {
		d := string(in.Data)
		if err != nil || res.Records[i].ErrorCode != "" {
			w.maybe[d] = w.now()
			continue
		}
		w.records[d] = acked{stream: s.name, shard: res.Records[i].ShardID, seq: res.Records[i].SequenceNumber, key: in.PartitionKey, millis: -1, at: w.now()}
	}
}

func (w *crashWorld) reshard(s *Stream) {
	page, err := s.ListShards(bg, ListShardsInput{ShardFilter: ShardFilter{Type: FilterAtLatest}})
	if err != nil {
		return
	}
	open := page.Shards
	switch op := w.r.IntN(3); {
	case op == 0 && len(open) < 6:
		sh := open[w.r.IntN(len(open))]
		lo, _ := new(big.Int).SetString(sh.HashKeyRange.StartingHashKey, 10)
		hi, _ := new(big.Int).SetString(sh.HashKeyRange.EndingHashKey, 10)
		_ = errOf(s.SplitShard(bg, SplitShardInput{ShardToSplit: sh.ShardID, NewStartingHashKey: new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1).String()}))
	case op == 1 && len(open) > 1:
		i := w.r.IntN(len(open) - 1)
		_ = errOf(s.MergeShards(bg, MergeShardsInput{ShardToMerge: open[i].ShardID, AdjacentShardToMerge: open[i+1].ShardID}))
	default:
		_, _ = s.UpdateShardCount(bg, UpdateShardCountInput{TargetShardCount: max(1, min(6, len(open)+w.r.IntN(3)-1)), ScalingType: UniformScaling})
	}
}

// step runs one random operation.
func (w *crashWorld) step() {
	r := w.r
	s := w.pick()
	switch n := r.IntN(100); {
	case s == nil || n < 3 && len(w.streams) < 3:
		name := fmt.Sprint("s", r.IntN(5))
		if _, err := w.a.CreateStream(bg, CreateStreamInput{StreamName: name, ShardCount: 1 + r.IntN(3)}); err == nil {
			w.streams[name] = true
		}
	case n < 4 && r.IntN(4) == 0:
		if err := w.a.DeleteStream(bg, DeleteStreamInput{StreamRef: StreamRef{StreamName: s.name}, EnforceConsumerDeletion: true}); err == nil {
			delete(w.streams, s.name)
			for d, rec := range w.records {
				if rec.stream == s.name {
					delete(w.records, d)
				}
			}
		}
	case n < 45:
		w.put(s)
	case n < 65:
		w.putBatch(s)
	case n < 70:
		w.reshard(s)
	case n < 73:
		_, _ = s.RegisterStreamConsumer(bg, fmt.Sprint("c", r.IntN(3)))
	case n < 75:
		_ = s.AddTagsToStream(bg, map[string]string{fmt.Sprint("t", r.IntN(5)): "v"})
	case n < 84:
		w.clk.Advance(time.Duration(r.IntN(60)) * time.Second) // far below retention
		if r.IntN(3) == 0 {                                    // shards idle since park
			w.clk.Advance(parkAfter)
			_ = w.a.ApplyRetention(bg)
		}
	case n < 85:
		w.clk.Advance(23*time.Hour + time.Duration(r.IntN(7200))*time.Second) // records and closed shards expire
	case n < 88:
		w.fs.ClearFaults()
		_ = w.a.Close() // a fault may fail it; nothing acknowledged is lost
		w.open()
		w.reopens++
		w.check()
	case n < 92:
		w.fs.Fail([]vfs.Op{vfs.OpSync, vfs.OpAllocate, vfs.OpCreate, vfs.OpWrite}[r.IntN(4)], r.IntN(4),
			[]error{errEIO, errENOSPC}[r.IntN(2)]) // a fault: calls fail, nothing acknowledged is lost
	default:
		w.cut()
	}
}

var (
	errEIO    = errors.New("input/output error (injected)")
	errENOSPC = errors.New("no space left on device (injected)")
)

// cut cuts the power, now or in the middle of the next operations, and
// restarts on what the disk kept.
func (w *crashWorld) cut() {
	w.cuts++
	var torn *rand.Rand
	if w.r.IntN(2) == 0 {
		torn = rand.New(rand.NewPCG(w.r.Uint64(), 1))
	}
	if w.r.IntN(3) == 0 {
		w.fs.CrashAfter(w.r.IntN(12), torn)
		for i := 0; !w.crashed(); i++ { // operations until the cut happens in one
			if i == 1000 {
				w.fs.Crash()
				break
			}
			w.stepNoCut()
		}
	} else if torn != nil {
		w.fs.CrashTorn(torn)
	} else {
		w.fs.Crash()
	}
	w.fs.ClearFaults()
	// The old process died with the power: its account is abandoned, not
	// closed (closing would only fail).
	w.open()
	w.check()
}

func (w *crashWorld) now() int64 { return w.clk.Now().UnixMilli() }

// expire forgets the records past the default retention (24 hours): a
// record is gone once its arrival time is older than that.
func (w *crashWorld) expire() {
	cutoff := w.clk.Now().Add(-DefaultRetention).UnixMilli()
	for d, a := range w.records {
		if a.at < cutoff {
			delete(w.records, d)
			w.expired[d] = true
		}
	}
	for d, at := range w.maybe {
		if at < cutoff {
			delete(w.maybe, d)
			w.expired[d] = true
		}
	}
}

// crashed reports whether the account's process has lost the power.
func (w *crashWorld) crashed() bool {
	_, err := w.a.store.fs.ReadDir("/data")
	return errors.Is(err, vfs.ErrCrashed)
}

// stepNoCut runs a random data operation (the kind a cut interrupts).
func (w *crashWorld) stepNoCut() {
	s := w.pick()
	if s == nil {
		if _, err := w.a.CreateStream(bg, CreateStreamInput{StreamName: "s0", ShardCount: 1}); err == nil {
			w.streams["s0"] = true
		}
		return
	}
	switch w.r.IntN(4) {
	case 0:
		w.putBatch(s)
	case 1:
		w.reshard(s)
	default:
		w.put(s)
	}
}

// check reads everything back: every acknowledged record is there, once,
// with its sequence number, in its shard; nothing is there that was not
// put; then what was put and not acknowledged but survived counts as
// acknowledged from now on.
func (w *crashWorld) check() {
	t := w.t
	w.expire()
	rep := w.a.Recovery()
	require.Empty(t, rep.Corrupt, "a power cut must not look like corruption")
	seen := map[string]bool{}
	for _, name := range w.names() {
		s := w.stream(name)
		require.NotNil(t, s, "stream %s was acknowledged", name)
		page, err := s.ListShards(bg, ListShardsInput{})
		require.NoError(t, err)
		for _, sh := range page.Shards {
			var prev SequenceNumber
			for rec, err := range s.Records(bg, sh.ShardID, StartingPosition{Type: TrimHorizon}) {
				require.NoError(t, err)
				d := string(rec.Data)
				require.False(t, seen[d], "record %.20s twice", d)
				require.False(t, w.expired[d], "record %.20s returned after it expired", d)
				seen[d] = true
				require.Equal(t, 1, rec.SequenceNumber.Compare(prev), "sequence numbers rise")
				prev = rec.SequenceNumber
				if a, ok := w.records[d]; ok {
					require.Equal(t, a.shard, sh.ShardID, "record %.20s moved", d)
					require.Equal(t, a.seq, rec.SequenceNumber, "record %.20s renumbered", d)
					require.Equal(t, a.key, rec.PartitionKey)
					if a.millis < 0 {
						a.millis = rec.ApproximateArrivalTimestamp.UnixMilli()
						w.records[d] = a
					}
					require.Equal(t, a.millis, rec.ApproximateArrivalTimestamp.UnixMilli())
					continue
				}
				at, ok := w.maybe[d]
				require.True(t, ok, "record %.20s was never put", d)
				delete(w.maybe, d)
				w.records[d] = acked{stream: name, shard: sh.ShardID, seq: rec.SequenceNumber, key: rec.PartitionKey, millis: rec.ApproximateArrivalTimestamp.UnixMilli(), at: at}
			}
		}
	}
	for d, a := range w.records {
		require.True(t, seen[d], "acknowledged record %.20s of %s/%s (%s) is lost (put at %d, now %d)", d, a.stream, a.shard, a.seq, a.at, w.now())
	}
	// A record whose put failed may still turn up later (a power cut can
	// write back the frame of a record whose sync failed; nothing was
	// written after it in its shard): it stays possible until then, as a
	// failed PutRecord may have succeeded on AWS.
}

// TestPowerLossLosesNothingAcknowledged: under SyncAlways, power cuts at
// random points (between operations and inside them, with unsynced writes
// dropped or torn), faults (EIO, ENOSPC) and clean restarts never lose or
// change an acknowledged record, and never make one up.
func TestPowerLossLosesNothingAcknowledged(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("SHARDLOG_CRASH_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("SHARDLOG_CRASH_SEED=%d", seed)
	defer func(min int64) { compactIndexMin = min }(compactIndexMin)
	compactIndexMin = 512 // index compactions among the cuts
	w := &crashWorld{t: t, r: rand.New(rand.NewPCG(7, seed)), fs: vfs.NewMemFS(), clk: NewManualClock(tStart),
		records: map[string]acked{}, maybe: map[string]int64{}, expired: map[string]bool{}, streams: map[string]bool{}}
	w.open()
	for want := testsize.Rounds(t, "SHARDLOG_CRASH_CUTS", 120, 20); w.cuts < want; {
		w.step()
	}
	w.fs.ClearFaults()
	_ = w.a.Close()
	w.open()
	w.check()
	require.NoError(t, w.a.Close())
	t.Logf("%d cuts, %d clean restarts, %d records acknowledged", w.cuts, w.reopens, len(w.records))
}
