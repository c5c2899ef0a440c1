package shardlog_test

import (
	"errors"
	"fmt"
	"math/big"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/model"
)

// TestModelBased runs random operation sequences against the engine and
// the reference model and compares every result: errors by exception name,
// where records land, what reads return and in what order, sequence-number
// order, and ListShards. Run it longer with -rapid.checks=10000.
func TestModelBased(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { runMachine(t, newMachine(t, "")) })
}

// TestModelBasedDurable runs the same sequences against a durable account
// (in a directory of its own), which a step closes and reopens: the state
// after reopening must match the model in every observable way, and the
// iterators issued before must still read.
func TestModelBasedDurable(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		dir, err := os.MkdirTemp(t.TempDir(), "model")
		if err != nil {
			rt.Fatal(err)
		}
		runMachine(rt, newMachine(rt, dir))
	})
}

func runMachine(t *rapid.T, m *machine) {
	defer func() { m.acct.Close() }()
	defer m.closeAccount(t)
	actions := map[string]func(*rapid.T){
		"":            m.check,
		"create":      m.create,
		"delete":      m.delete,
		"put":         m.put,
		"putBatch":    m.putBatch,
		"iterator":    m.iterator,
		"getRecords":  m.getRecords,
		"split":       m.split,
		"merge":       m.merge,
		"updateCount": m.updateCount,
		"retention":   m.retention,
		"advance":     m.advance,
		"register":    m.register,
		"deregister":  m.deregister,
		"subscribe":   m.subscribe,
		"lease":       m.lease,
	}
	if m.dir != "" {
		actions["reopen"] = m.reopen
	}
	t.Repeat(actions)
}

type machine struct {
	dir   string // a durable account's directory; "" in memory
	acct  *shardlog.Account
	clk   *shardlog.ManualClock
	m     *model.Model
	gen   map[string]int       // stream name -> incarnation, to tell recreated streams apart
	subAt map[string]time.Time // consumer ARN + shard -> last subscription
	iters []iterState
	steps int
	// leases is the model of the account's LeaseStore: table -> key ->
	// lease, written with conditional swaps, kept across reopening.
	leases map[string]map[string]shardlog.Lease
}

type iterState struct {
	token  string
	stream string
	gen    int
	shard  string
	pos    int
	issued time.Time
}

const modelShardLimit = 40

func newMachine(t *rapid.T, dir string) *machine {
	clk := shardlog.NewManualClock(t0)
	m := &machine{dir: dir, clk: clk, m: model.New(t0, modelShardLimit), gen: map[string]int{}, subAt: map[string]time.Time{},
		leases: map[string]map[string]shardlog.Lease{}}
	m.open(t)
	return m
}

func (m *machine) open(t *rapid.T) {
	opts := []shardlog.Option{shardlog.WithClock(m.clk), shardlog.WithoutLimits(), shardlog.WithShardLimit(modelShardLimit)}
	if m.dir != "" {
		opts = append(opts, shardlog.WithDir(m.dir), shardlog.WithSegmentSize(64<<10))
	}
	a, err := shardlog.NewAccount(opts...)
	if err != nil {
		t.Fatal(err)
	}
	m.acct = a
}

// reopen closes the durable account and opens its directory again.
func (m *machine) reopen(t *rapid.T) {
	if err := m.acct.Close(); err != nil {
		t.Fatal(err)
	}
	m.open(t)
	if r := m.acct.Recovery(); len(r.TornTails)+len(r.Corrupt) > 0 {
		t.Fatalf("a clean reopen found damage: %+v", r)
	}
	clear(m.subAt) // subscriptions end with the account; the five-second rule with them
	m.check(t)
}

func code(err error) string {
	var e *shardlog.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func (m *machine) same(t *rapid.T, op string, err error, want string) {
	if got := code(err); got != want {
		t.Fatalf("%s: engine says %q (%v), model says %q", op, got, err, want)
	}
}

var streamNames = []string{"a", "b"}

func (m *machine) streamName(t *rapid.T) string {
	return rapid.SampledFrom(streamNames).Draw(t, "stream")
}

func (m *machine) stream(name string) *shardlog.Stream {
	s, _ := m.acct.Stream(shardlog.StreamRef{StreamName: name})
	return s
}

func (m *machine) create(t *rapid.T) {
	name := m.streamName(t)
	n := rapid.IntRange(0, 4).Draw(t, "shards")
	_, err := m.acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: name, ShardCount: n})
	want := m.m.CreateStream(name, n)
	m.same(t, "CreateStream", err, want)
	if want == "" {
		m.gen[name]++
	}
}

func (m *machine) delete(t *rapid.T) {
	name, force := m.streamName(t), rapid.Bool().Draw(t, "force")
	err := m.acct.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: name}, EnforceConsumerDeletion: force})
	m.same(t, "DeleteStream", err, m.m.DeleteStream(name, force))
	if err == nil {
		m.forgetSubscriptions(m.acct.StreamARN(name) + "/")
	}
}

func (m *machine) record(t *rapid.T) shardlog.PutInput {
	in := shardlog.PutInput{
		PartitionKey: rapid.SampledFrom([]string{"k1", "k2", "k3", "k4", "k5", "user-7", "é", ""}).Draw(t, "key"),
		Data:         []byte(fmt.Sprint("d", m.steps)),
	}
	m.steps++
	switch rapid.IntRange(0, 5).Draw(t, "hashKind") {
	case 0:
		in.ExplicitHashKey = new(big.Int).Rsh(new(big.Int).Lsh(big.NewInt(int64(rapid.IntRange(0, 1000).Draw(t, "ehk"))), 128), 10).String()
	case 1:
		in.ExplicitHashKey = rapid.SampledFrom([]string{"0", "340282366920938463463374607431768211455", "340282366920938463463374607431768211456", "-1", "x"}).Draw(t, "ehkEdge")
	}
	return in
}

// checkSeq asserts a new number exceeds every earlier number of its shard.
func (m *machine) checkSeq(t *rapid.T, sh *model.Shard, seq shardlog.SequenceNumber) {
	if n := len(sh.Records); n > 1 {
		prev, _ := shardlog.ParseSequenceNumber(sh.Records[n-2].Seq)
		if prev.Compare(seq) >= 0 {
			t.Fatalf("sequence numbers not rising in %s: %s then %s", model.ID(sh.Index), prev, seq)
		}
	}
}

// allShards lists every shard of s, following NextTokens.
func allShards(s *shardlog.Stream) ([]shardlog.Shard, error) {
	var out []shardlog.Shard
	in := shardlog.ListShardsInput{}
	for {
		page, err := s.ListShards(ctx, in)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Shards...)
		if page.NextToken == "" {
			return out, nil
		}
		in = shardlog.ListShardsInput{NextToken: page.NextToken}
	}
}

func (m *machine) put(t *rapid.T) {
	name := m.streamName(t)
	in := m.record(t)
	var res shardlog.PutOutput
	var err error
	if s := m.stream(name); s != nil {
		res, err = s.Put(ctx, in)
	} else {
		err = &shardlog.Error{Code: "ResourceNotFoundException"}
	}
	sh, want := m.m.Put(name, in.PartitionKey, string(in.Data), in.ExplicitHashKey, res.SequenceNumber.String())
	m.same(t, "Put", err, want)
	if want == "" {
		if res.ShardID != model.ID(sh.Index) {
			t.Fatalf("Put: engine shard %s, model shard %s", res.ShardID, model.ID(sh.Index))
		}
		m.checkSeq(t, sh, res.SequenceNumber)
	}
}

func (m *machine) putBatch(t *rapid.T) {
	name := m.streamName(t)
	n := rapid.IntRange(1, 6).Draw(t, "n")
	batch := make([]shardlog.PutInput, n)
	want := ""
	for i := range batch {
		batch[i] = m.record(t)
		if batch[i].PartitionKey == "" && want == "" {
			want = "ValidationException"
		}
		if _, ok := model.Hash(batch[i].PartitionKey, batch[i].ExplicitHashKey); !ok && want == "" && batch[i].PartitionKey != "" {
			want = "InvalidArgumentException"
		}
	}
	s := m.stream(name)
	if s == nil {
		if _, ok := m.m.Streams[name]; ok {
			t.Fatalf("engine lost stream %s", name)
		}
		return
	}
	res, err := s.PutBatch(ctx, batch)
	if _, ok := m.m.Streams[name]; !ok {
		want = "ResourceNotFoundException"
	}
	m.same(t, "PutBatch", err, want)
	if want != "" {
		return
	}
	for i, in := range batch {
		e := res.Records[i]
		sh, _ := m.m.Put(name, in.PartitionKey, string(in.Data), in.ExplicitHashKey, e.SequenceNumber.String())
		if e.ErrorCode != "" || e.ShardID != model.ID(sh.Index) {
			t.Fatalf("PutBatch record %d: engine %+v, model shard %s", i, e, model.ID(sh.Index))
		}
		m.checkSeq(t, sh, e.SequenceNumber)
	}
}

// pickShard picks a listed shard of the model's stream, or sometimes a
// shard ID that is not listed.
func (m *machine) pickShard(t *rapid.T, s *model.Stream) string {
	listed := m.m.Listed(s)
	if len(listed) == 0 || rapid.IntRange(0, 9).Draw(t, "bogus") == 0 {
		return model.ID(rapid.IntRange(0, 60).Draw(t, "anyShard"))
	}
	return model.ID(rapid.SampledFrom(listed).Draw(t, "shard").Index)
}

func (m *machine) iterator(t *rapid.T) {
	name := m.streamName(t)
	ms, ok := m.m.Streams[name]
	if !ok {
		return
	}
	id := m.pickShard(t, ms)
	sh := m.m.Shard(ms, id)
	typ := rapid.SampledFrom([]string{"TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "AT_TIMESTAMP"}).Draw(t, "type")
	p := shardlog.StartingPosition{Type: shardlog.IteratorType(typ)}
	seqIndex := 0
	if typ == "AT_SEQUENCE_NUMBER" || typ == "AFTER_SEQUENCE_NUMBER" {
		if sh == nil || len(sh.Records) == 0 {
			return
		}
		seqIndex = rapid.IntRange(0, len(sh.Records)-1).Draw(t, "seqIndex")
		p = wirePosition(p.Type, sh.Records[seqIndex].Seq) // the model keeps numbers as text
	}
	if typ == "AT_TIMESTAMP" {
		back := time.Duration(rapid.IntRange(0, 30*3600).Draw(t, "back")) * time.Second
		p.Timestamp = m.m.Now.Add(-back)
	}
	tok, err := m.stream(name).GetShardIterator(ctx, id, p)
	want := ""
	if sh == nil {
		want = "ResourceNotFoundException"
	}
	m.same(t, "GetShardIterator "+typ, err, want)
	if want == "" {
		m.iters = append(m.iters, iterState{tok, name, m.gen[name], id, m.m.Position(ms, sh, typ, seqIndex, p.Timestamp), m.m.Now})
	}
}

func (m *machine) getRecords(t *rapid.T) {
	if len(m.iters) == 0 {
		return
	}
	i := rapid.IntRange(0, len(m.iters)-1).Draw(t, "iter")
	it := m.iters[i]
	limit := rapid.IntRange(1, 5).Draw(t, "limit")
	out, err := m.acct.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it.token, Limit: limit})
	ms, ok := m.m.Streams[it.stream]
	var sh *model.Shard
	if ok {
		sh = m.m.Shard(ms, it.shard)
	}
	switch {
	case m.m.Now.Sub(it.issued) > 5*time.Minute:
		m.same(t, "GetRecords", err, "ExpiredIteratorException")
		return
	case !ok || m.gen[it.stream] != it.gen || sh == nil:
		m.same(t, "GetRecords", err, "ResourceNotFoundException")
		return
	}
	m.same(t, "GetRecords", err, "")
	recs, next, end := m.m.Read(ms, sh, it.pos, limit)
	if len(out.Records) != len(recs) {
		t.Fatalf("GetRecords %s from %d: engine %d records, model %d", it.shard, it.pos, len(out.Records), len(recs))
	}
	for j, r := range recs {
		got := out.Records[j]
		if string(got.Data) != r.Data || got.PartitionKey != r.Key || got.SequenceNumber.String() != r.Seq || !got.ApproximateArrivalTimestamp.Equal(r.Arrival) {
			t.Fatalf("GetRecords record %d: engine %+v, model %+v", j, got, r)
		}
	}
	if end != (out.NextShardIterator == "") {
		t.Fatalf("GetRecords: engine next iterator %q, model at end %v", out.NextShardIterator, end)
	}
	if end {
		var ids []string
		for _, c := range out.ChildShards {
			ids = append(ids, c.ShardID)
		}
		if !slices.Equal(ids, sh.Children) {
			t.Fatalf("ChildShards: engine %v, model %v", ids, sh.Children)
		}
		m.iters = slices.Delete(m.iters, i, i+1)
		return
	}
	m.iters[i] = iterState{out.NextShardIterator, it.stream, it.gen, it.shard, next, m.m.Now}
}

func (m *machine) split(t *rapid.T) {
	name := m.streamName(t)
	ms, ok := m.m.Streams[name]
	if !ok {
		return
	}
	id := m.pickShard(t, ms)
	key := "5"
	if sh := m.m.Shard(ms, id); sh != nil {
		width := new(big.Int).Sub(sh.End, sh.Start)
		off := new(big.Int).Mul(width, big.NewInt(int64(rapid.IntRange(0, 1000).Draw(t, "at"))))
		key = new(big.Int).Add(sh.Start, off.Quo(off, big.NewInt(1000))).String()
	}
	_, err := m.stream(name).SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: id, NewStartingHashKey: key})
	m.same(t, "SplitShard "+id+" at "+key, err, m.m.Split(name, id, key))
}

func (m *machine) merge(t *rapid.T) {
	name := m.streamName(t)
	ms, ok := m.m.Streams[name]
	if !ok {
		return
	}
	a, b := m.pickShard(t, ms), m.pickShard(t, ms)
	_, err := m.stream(name).MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: a, AdjacentShardToMerge: b})
	m.same(t, "MergeShards "+a+" "+b, err, m.m.Merge(name, a, b))
}

func (m *machine) updateCount(t *rapid.T) {
	name := m.streamName(t)
	ms, ok := m.m.Streams[name]
	if !ok {
		return
	}
	n := len(ms.Open())
	target := rapid.IntRange(max(0, n/2-1), 2*n+1).Draw(t, "target")
	_, err := m.stream(name).UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: target, ScalingType: shardlog.UniformScaling})
	m.same(t, fmt.Sprintf("UpdateShardCount %d -> %d", n, target), err, m.m.UpdateShardCount(name, target))
}

func (m *machine) retention(t *rapid.T) {
	name := m.streamName(t)
	s := m.stream(name)
	if s == nil {
		return
	}
	hours := rapid.SampledFrom([]int{10, 24, 30, 48, 100}).Draw(t, "hours")
	inc := rapid.Bool().Draw(t, "increase")
	var err error
	if inc {
		err = s.IncreaseStreamRetentionPeriod(ctx, time.Duration(hours)*time.Hour)
	} else {
		err = s.DecreaseStreamRetentionPeriod(ctx, time.Duration(hours)*time.Hour)
	}
	m.same(t, fmt.Sprintf("retention %v %d", inc, hours), err, m.m.SetRetention(name, hours, inc))
}

func (m *machine) advance(t *rapid.T) {
	d := rapid.SampledFrom([]time.Duration{time.Millisecond, time.Second, time.Minute, 4 * time.Minute, time.Hour, 6 * time.Hour, 25 * time.Hour}).Draw(t, "advance")
	m.clk.Advance(d)
	m.m.Now = m.clk.Now()
}

// check compares the whole observable state after every step.
// lease makes a conditional write to the account's LeaseStore, as a worker
// taking, renewing or checkpointing a lease would, with a condition that
// may or may not hold.
func (m *machine) lease(t *rapid.T) {
	table := rapid.SampledFrom([]string{"s/1/app", "s/1/other"}).Draw(t, "table")
	key := rapid.SampledFrom([]string{"shardId-000000000000", "shardId-000000000001"}).Draw(t, "leaseKey")
	cur, ok := m.leases[table][key]
	var old *shardlog.Lease
	switch rapid.IntRange(0, 3).Draw(t, "condition") {
	case 0: // create
	case 1: // the lease as it is
		c := cur
		old = &c
	case 2: // stale
		c := cur
		c.Counter--
		old = &c
	default: // another owner's view
		c := cur
		c.Owner += "?"
		old = &c
	}
	next := shardlog.Lease{
		Key:                   key,
		Owner:                 rapid.SampledFrom([]string{"", "A", "B"}).Draw(t, "owner"),
		Counter:               cur.Counter + 1,
		CheckpointSubSequence: rapid.Int64Range(0, 3).Draw(t, "sub"),
		ShardEnd:              rapid.Bool().Draw(t, "shardEnd"),
		Parents:               rapid.SampledFrom([][]string{nil, {"shardId-000000000009"}}).Draw(t, "parents"),
	}
	err := m.acct.LeaseStore().Swap(ctx, table, old, next)
	conflict := old == nil && ok || old != nil && (!ok || old.Owner != cur.Owner || old.Counter != cur.Counter)
	if conflict != errors.Is(err, shardlog.ErrLeaseConflict) || !conflict && err != nil {
		t.Fatalf("lease swap: engine says %v, model says conflict=%v", err, conflict)
	}
	if !conflict {
		if m.leases[table] == nil {
			m.leases[table] = map[string]shardlog.Lease{}
		}
		m.leases[table][key] = next
	}
}

// checkLeases compares the account's LeaseStore with the model.
func (m *machine) checkLeases(t *rapid.T) {
	for table, want := range m.leases {
		got, err := m.acct.LeaseStore().Leases(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(got, func(a, b shardlog.Lease) int { return strings.Compare(a.Key, b.Key) })
		var w []shardlog.Lease
		for _, l := range want {
			w = append(w, l)
		}
		slices.SortFunc(w, func(a, b shardlog.Lease) int { return strings.Compare(a.Key, b.Key) })
		if !reflect.DeepEqual(got, w) {
			t.Fatalf("leases of %s: engine %+v, model %+v", table, got, w)
		}
	}
}

func (m *machine) check(t *rapid.T) {
	m.checkLeases(t)
	out, err := m.acct.ListStreams(ctx, shardlog.ListStreamsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range m.m.Streams {
		names = append(names, name)
	}
	slices.Sort(names)
	if !slices.Equal(out.StreamNames, names) && !(len(names) == 0 && len(out.StreamNames) == 0) {
		t.Fatalf("streams: engine %v, model %v", out.StreamNames, names)
	}
	for _, name := range names {
		ms, s := m.m.Streams[name], m.stream(name)
		got, err := allShards(s)
		if err != nil {
			t.Fatal(err)
		}
		want := m.m.Listed(ms)
		if len(got) != len(want) {
			t.Fatalf("%s: engine lists %v, model %d shards", name, ids(got), len(want))
		}
		for i, sh := range want {
			g := got[i]
			if g.ShardID != model.ID(sh.Index) || g.HashKeyRange.StartingHashKey != sh.Start.String() || g.HashKeyRange.EndingHashKey != sh.End.String() ||
				g.ParentShardID != sh.Parent || g.AdjacentParentShardID != sh.Adjacent || g.SequenceNumberRange.EndingSequenceNumber.IsZero() != sh.Open {
				t.Fatalf("%s shard %d: engine %+v, model %+v", name, i, g, sh)
			}
			var data []string
			for r, err := range s.Records(ctx, g.ShardID, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
				if err != nil {
					t.Fatal(err)
				}
				data = append(data, string(r.Data))
			}
			var wantData []string
			for _, r := range m.m.Live(ms, sh) {
				wantData = append(wantData, r.Data)
			}
			if !slices.Equal(data, wantData) {
				t.Fatalf("%s %s live records: engine %v, model %v", name, g.ShardID, data, wantData)
			}
		}
	}
}

var consumerNames = []string{"c1", "c2"}

func (m *machine) register(t *rapid.T) {
	name, c := m.streamName(t), rapid.SampledFrom(consumerNames).Draw(t, "consumer")
	s := m.stream(name)
	if s == nil {
		return
	}
	_, err := s.RegisterStreamConsumer(ctx, c)
	m.same(t, "RegisterStreamConsumer", err, m.m.Register(name, c))
}

func (m *machine) deregister(t *rapid.T) {
	name, c := m.streamName(t), rapid.SampledFrom(consumerNames).Draw(t, "consumer")
	err := m.acct.DeregisterStreamConsumer(ctx, shardlog.ConsumerRef{StreamARN: m.acct.StreamARN(name), ConsumerName: c})
	m.same(t, "DeregisterStreamConsumer", err, m.m.Deregister(name, c))
	m.forgetSubscriptions(m.acct.StreamARN(name) + "/consumer/" + c + ":")
}

// forgetSubscriptions drops the five-second history of consumers whose ARN
// starts with prefix: a consumer registered again is a new consumer, even
// if its ARN (which has second precision) is the same.
func (m *machine) forgetSubscriptions(prefix string) {
	for k := range m.subAt {
		if strings.HasPrefix(k, prefix) {
			delete(m.subAt, k)
		}
	}
}

// subscribe reads a listed shard from TRIM_HORIZON through a subscription
// and compares what arrives with the model's live records.
func (m *machine) subscribe(t *rapid.T) {
	name, c := m.streamName(t), rapid.SampledFrom(consumerNames).Draw(t, "consumer")
	ms, ok := m.m.Streams[name]
	if !ok || !ms.Consumers[c] {
		return
	}
	d, err := m.acct.DescribeStreamConsumer(ctx, shardlog.ConsumerRef{StreamARN: m.acct.StreamARN(name), ConsumerName: c})
	if err != nil {
		t.Fatal(err)
	}
	listed := m.m.Listed(ms)
	if len(listed) == 0 {
		return
	}
	sh := rapid.SampledFrom(listed).Draw(t, "shard")
	id := model.ID(sh.Index)
	sub, err := m.acct.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerARN: d.ConsumerARN, ShardID: id, StartingPosition: shardlog.StartingPosition{Type: shardlog.TrimHorizon}})
	want := ""
	if last, ok := m.subAt[d.ConsumerARN+id]; ok && m.m.Now.Sub(last) < 5*time.Second {
		want = "ResourceInUseException"
	}
	m.same(t, "SubscribeToShard", err, want)
	if err != nil {
		return
	}
	defer sub.Close()
	m.subAt[d.ConsumerARN+id] = m.m.Now
	var wantData, got []string
	for _, r := range m.m.Live(ms, sh) {
		wantData = append(wantData, r.Data)
	}
	for len(got) < len(wantData) {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				t.Fatalf("subscription to %s ended early: %v", id, sub.Err())
			}
			for _, r := range ev.Records {
				got = append(got, string(r.Data))
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("subscription to %s: %d of %d records after 5 s", id, len(got), len(wantData))
		}
	}
	if !slices.Equal(got, wantData) {
		t.Fatalf("subscription to %s: %v, model %v", id, got, wantData)
	}
}

// closeAccount ends every sequence: afterwards every call fails with
// ErrClosed.
func (m *machine) closeAccount(t *rapid.T) {
	if err := m.acct.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "z", ShardCount: 1}); !errors.Is(err, shardlog.ErrClosed) {
		t.Fatalf("CreateStream after Close: %v", err)
	}
	if _, err := m.acct.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: "x"}); !errors.Is(err, shardlog.ErrClosed) {
		t.Fatalf("GetRecords after Close: %v", err)
	}
}
