// Package streamtest is the conformance suite of [shardlog.StreamAPI]:
// behaviour that code written against the interface may rely on, whatever
// implements it. shardlog runs it against its embedded streams and, in the
// aws module, against the AWS SDK implementation pointed at kinesisapi and
// at kinesalite; run it against your own implementation the same way:
//
//	func TestConformance(t *testing.T) {
//		streamtest.Run(t, func(t *testing.T, shards int) shardlog.StreamAPI { ... })
//	}
//
// An implementation without enhanced fan-out consumers skips their cases
// with [WithoutConsumers].
package streamtest

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
)

// Open returns a new, empty, ACTIVE stream with the given number of
// shards, without throughput limits, for one test.
type Open func(t *testing.T, shards int) shardlog.StreamAPI

// Run runs every case of the suite, each on streams of its own.
func Run(t *testing.T, open Open, opts ...Option) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.consumers && o.noConsumers != "" {
				t.Skip(o.noConsumers)
			}
			c.run(t, open)
		})
	}
}

// Option changes what Run covers.
type Option func(*options)

type options struct {
	noConsumers string // why the consumer cases are skipped
}

// WithoutConsumers skips the cases that need enhanced fan-out consumers
// (RegisterStreamConsumer, SubscribeToShard), with reason as the skip's
// message: for an implementation that has none.
func WithoutConsumers(reason string) Option {
	return func(o *options) { o.noConsumers = reason }
}

var cases = []struct {
	name      string
	run       func(*testing.T, Open)
	consumers bool // needs enhanced fan-out consumers
}{
	{"PutThenRead", putThenRead, false},
	{"PutBatchKeepsKeyOrder", putBatchKeepsKeyOrder, false},
	{"ShardsCoverTheHashSpace", shardsCoverTheHashSpace, false},
	{"ExplicitHashKeyRoutes", explicitHashKeyRoutes, false},
	{"IteratorTypes", iteratorTypes, false},
	{"SequenceNumberForOrdering", sequenceNumberForOrdering, false},
	{"Errors", errorsAsSentinels, false},
	{"UnknownConsumer", unknownConsumer, true},
	{"EnhancedFanOut", enhancedFanOut, true},
	{"ConsumerGroup", consumerGroup, false},
	{"ConsumerGroupFanOut", consumerGroupFanOut, true},
}

var ctx = context.Background()

// checked calls s for a test: a call that fails fails the test.
type checked struct {
	t *testing.T
	s shardlog.StreamAPI
}

func (c checked) check(err error) {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
}

func (c checked) put(in shardlog.PutInput) shardlog.PutOutput {
	c.t.Helper()
	r, err := c.s.Put(ctx, in)
	c.check(err)
	return r
}

func (c checked) putBatch(in []shardlog.PutInput) shardlog.PutBatchOutput {
	c.t.Helper()
	r, err := c.s.PutBatch(ctx, in)
	c.check(err)
	return r
}

func (c checked) shards() []shardlog.Shard {
	c.t.Helper()
	r, err := c.s.ListShards(ctx, shardlog.ListShardsInput{})
	c.check(err)
	return r.Shards
}

func (c checked) iterator(shardID string, p shardlog.StartingPosition) string {
	c.t.Helper()
	r, err := c.s.GetShardIterator(ctx, shardID, p)
	c.check(err)
	return r
}

func (c checked) records(it string) shardlog.GetRecordsOutput {
	c.t.Helper()
	r, err := c.s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	c.check(err)
	return r
}

func (c checked) register(name string) shardlog.Consumer {
	c.t.Helper()
	r, err := c.s.RegisterStreamConsumer(ctx, name)
	c.check(err)
	return r
}

func (c checked) describe(name string) shardlog.Consumer {
	c.t.Helper()
	r, err := c.s.DescribeStreamConsumer(ctx, name)
	c.check(err)
	return r
}

func (c checked) subscribe(name, shardID string, p shardlog.StartingPosition) *shardlog.Subscription {
	c.t.Helper()
	r, err := c.s.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerName: name, ShardID: shardID, StartingPosition: p})
	c.check(err)
	return r
}

// readShard reads a shard from p to its current end.
func readShard(t *testing.T, s shardlog.StreamAPI, shardID string, p shardlog.StartingPosition) []shardlog.Record {
	t.Helper()
	c := checked{t, s}
	it := c.iterator(shardID, p)
	var out []shardlog.Record
	for it != "" {
		page := c.records(it)
		for _, r := range page.Records {
			r.Data = append([]byte(nil), r.Data...)
			out = append(out, r)
		}
		if len(page.Records) == 0 {
			break
		}
		it = page.NextShardIterator
	}
	return out
}

func trimHorizon() shardlog.StartingPosition {
	return shardlog.StartingPosition{Type: shardlog.TrimHorizon}
}

// putThenRead: what Put writes, GetRecords reads back: the same key, data,
// shard and sequence number, in rising order.
func putThenRead(t *testing.T, open Open) {
	s := open(t, 1)
	c := checked{t, s}
	var puts []shardlog.PutOutput
	for i := 0; i < 3; i++ {
		puts = append(puts, c.put(shardlog.PutInput{PartitionKey: "k", Data: []byte(fmt.Sprint("record ", i))}))
	}
	got := readShard(t, s, puts[0].ShardID, trimHorizon())
	if len(got) != 3 {
		t.Fatalf("read %d records, want 3", len(got))
	}
	for i, r := range got {
		if string(r.Data) != fmt.Sprint("record ", i) || r.PartitionKey != "k" {
			t.Errorf("record %d: %q with key %q", i, r.Data, r.PartitionKey)
		}
		if r.SequenceNumber.Compare(puts[i].SequenceNumber) != 0 {
			t.Errorf("record %d: sequence number %s, Put said %s", i, r.SequenceNumber, puts[i].SequenceNumber)
		}
		if r.ShardID != puts[i].ShardID {
			t.Errorf("record %d: shard %q, Put said %q", i, r.ShardID, puts[i].ShardID)
		}
		if i > 0 && r.SequenceNumber.Compare(got[i-1].SequenceNumber) <= 0 {
			t.Errorf("record %d: sequence number does not rise", i)
		}
		if r.ApproximateArrivalTimestamp.IsZero() {
			t.Errorf("record %d: no arrival time", i)
		}
	}
}

// putBatchKeepsKeyOrder: a batch succeeds record by record, and each key's
// records are read in the order they were put.
func putBatchKeepsKeyOrder(t *testing.T, open Open) {
	s := open(t, 2)
	c := checked{t, s}
	var batch []shardlog.PutInput
	for i := 0; i < 30; i++ {
		batch = append(batch, shardlog.PutInput{PartitionKey: fmt.Sprint("key-", i%5), Data: []byte(fmt.Sprint(i))})
	}
	res := c.putBatch(batch)
	if res.FailedRecordCount != 0 || len(res.Records) != len(batch) {
		t.Fatalf("%d of %d failed, %d results", res.FailedRecordCount, len(batch), len(res.Records))
	}
	order := map[string][]string{}
	for _, sh := range c.shards() {
		for _, r := range readShard(t, s, sh.ShardID, trimHorizon()) {
			order[r.PartitionKey] = append(order[r.PartitionKey], string(r.Data))
		}
	}
	for k := 0; k < 5; k++ {
		var want []string
		for i := k; i < 30; i += 5 {
			want = append(want, fmt.Sprint(i))
		}
		if got := order[fmt.Sprint("key-", k)]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("key-%d read as %v, want %v", k, got, want)
		}
	}
}

// shardsCoverTheHashSpace: the open shards' hash ranges tile [0, 2^128-1].
func shardsCoverTheHashSpace(t *testing.T, open Open) {
	s := open(t, 3)
	c := checked{t, s}
	shards := c.shards()
	if len(shards) != 3 {
		t.Fatalf("%d shards, want 3", len(shards))
	}
	next := new(big.Int)
	for _, sh := range shards {
		start, _ := new(big.Int).SetString(sh.HashKeyRange.StartingHashKey, 10)
		end, _ := new(big.Int).SetString(sh.HashKeyRange.EndingHashKey, 10)
		if start == nil || end == nil || start.Cmp(next) != 0 || end.Cmp(start) < 0 {
			t.Fatalf("%s covers %v, want a range from %v", sh.ShardID, sh.HashKeyRange, next)
		}
		if sh.SequenceNumberRange.StartingSequenceNumber.IsZero() {
			t.Errorf("%s has no starting sequence number", sh.ShardID)
		}
		next.Add(end, big.NewInt(1))
	}
	if want := new(big.Int).Lsh(big.NewInt(1), 128); next.Cmp(want) != 0 {
		t.Errorf("the ranges end at %v, want 2^128-1", new(big.Int).Sub(next, big.NewInt(1)))
	}
}

// explicitHashKeyRoutes: a record with an ExplicitHashKey lands in the
// shard whose range holds it.
func explicitHashKeyRoutes(t *testing.T, open Open) {
	s := open(t, 2)
	c := checked{t, s}
	shards := c.shards()
	for _, sh := range shards {
		r := c.put(shardlog.PutInput{PartitionKey: "k", Data: []byte("x"), ExplicitHashKey: sh.HashKeyRange.StartingHashKey})
		if r.ShardID != sh.ShardID {
			t.Errorf("hash key %s went to %s, want %s", sh.HashKeyRange.StartingHashKey, r.ShardID, sh.ShardID)
		}
	}
}

// iteratorTypes: AT_ and AFTER_SEQUENCE_NUMBER start at and after a
// record, LATEST after the newest.
func iteratorTypes(t *testing.T, open Open) {
	s := open(t, 1)
	c := checked{t, s}
	var seqs []shardlog.SequenceNumber
	for i := 0; i < 3; i++ {
		seqs = append(seqs, c.put(shardlog.PutInput{PartitionKey: "k", Data: []byte(fmt.Sprint(i))}).SequenceNumber)
	}
	shard := c.shards()[0].ShardID
	data := func(rs []shardlog.Record) string {
		var out string
		for _, r := range rs {
			out += string(r.Data)
		}
		return out
	}
	if got := data(readShard(t, s, shard, shardlog.At(seqs[1]))); got != "12" {
		t.Errorf("AT_SEQUENCE_NUMBER of the second read %q, want \"12\"", got)
	}
	if got := data(readShard(t, s, shard, shardlog.After(seqs[1]))); got != "2" {
		t.Errorf("AFTER_SEQUENCE_NUMBER of the second read %q, want \"2\"", got)
	}
	it := c.iterator(shard, shardlog.StartingPosition{Type: shardlog.Latest})
	c.put(shardlog.PutInput{PartitionKey: "k", Data: []byte("3")})
	page := c.records(it)
	if got := data(page.Records); got != "3" {
		t.Errorf("LATEST read %q, want \"3\"", got)
	}
}

// sequenceNumberForOrdering: a record put with the previous record's
// number gets a greater one.
func sequenceNumberForOrdering(t *testing.T, open Open) {
	s := open(t, 1)
	c := checked{t, s}
	first := c.put(shardlog.PutInput{PartitionKey: "k", Data: []byte("1")})
	second := c.put(shardlog.PutInput{PartitionKey: "k", Data: []byte("2"), SequenceNumberForOrdering: first.SequenceNumber})
	if second.SequenceNumber.Compare(first.SequenceNumber) <= 0 {
		t.Errorf("%s is not after %s", second.SequenceNumber, first.SequenceNumber)
	}
}

// errorsAsSentinels: failures match shardlog's sentinels with errors.Is.
func errorsAsSentinels(t *testing.T, open Open) {
	s := open(t, 1)
	for _, tc := range []struct {
		name string
		err  error
		want *shardlog.Error
	}{
		{"unknown shard", errOf(s.GetShardIterator(ctx, "shardId-000000000099", trimHorizon())), shardlog.ErrResourceNotFound},
		{"empty partition key", errOf(s.Put(ctx, shardlog.PutInput{Data: []byte("x")})), shardlog.ErrValidation},
		{"bad iterator", errOf(s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: "not-an-iterator"})), shardlog.ErrInvalidArgument},
		{"AT_SEQUENCE_NUMBER without a number", errOf(s.GetShardIterator(ctx, "shardId-000000000000", shardlog.StartingPosition{Type: shardlog.AtSequenceNumber})), shardlog.ErrInvalidArgument},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, want %s", tc.name, tc.err, tc.want.Code)
		}
	}
}

// unknownConsumer: a consumer that is not registered is not found.
func unknownConsumer(t *testing.T, open Open) {
	s := open(t, 1)
	if _, err := s.DescribeStreamConsumer(ctx, "nobody"); !errors.Is(err, shardlog.ErrResourceNotFound) {
		t.Errorf("got %v, want %s", err, shardlog.ErrResourceNotFound.Code)
	}
}

func errOf[T any](_ T, err error) error { return err }

// enhancedFanOut: a registered consumer subscribes to a shard and
// receives its records; deregistered, it is gone.
func enhancedFanOut(t *testing.T, open Open) {
	s := open(t, 1)
	c := checked{t, s}
	for i := 0; i < 3; i++ {
		c.put(shardlog.PutInput{PartitionKey: "k", Data: []byte(fmt.Sprint(i))})
	}
	reg := c.register("app")
	if reg.ConsumerARN == "" || reg.ConsumerName != "app" {
		t.Fatalf("registered %+v", reg)
	}
	if d := c.describe("app"); d.ConsumerARN != reg.ConsumerARN {
		t.Fatalf("described %s, registered %s", d.ConsumerARN, reg.ConsumerARN)
	}
	shard := c.shards()[0].ShardID
	sub := c.subscribe("app", shard, trimHorizon())
	var got string
	deadline := time.After(10 * time.Second)
	for len(got) < 3 {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				t.Fatalf("the subscription ended early: %v", sub.Err())
			}
			for _, r := range ev.Records {
				got += string(r.Data)
			}
		case <-deadline:
			t.Fatalf("received %q in 10 s", got)
		}
	}
	if got != "012" {
		t.Errorf("received %q, want \"012\"", got)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.DeregisterStreamConsumer(ctx, "app"); err != nil {
		t.Fatal(err)
	}
}
