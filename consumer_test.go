package shardlog_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

func register(t testing.TB, s *shardlog.Stream, name string) shardlog.Consumer {
	t.Helper()
	c, err := s.RegisterStreamConsumer(ctx, name)
	require.NoError(t, err)
	return c
}

func TestRegisterDescribeListDeregister(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithDelays(shardlog.Delays{RegisterConsumer: time.Second, DeregisterConsumer: time.Second}))
	s := newStream(t, a, "s", 1)
	clk.Advance(1500 * time.Millisecond)
	c := register(t, s, "app")
	want := fmt.Sprintf("arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/app:%d", t0.Unix()+1)
	require.Equal(t, want, c.ConsumerARN)
	require.Equal(t, shardlog.ConsumerCreating, c.ConsumerStatus)
	require.Equal(t, s.ARN(), c.StreamARN)
	require.Equal(t, t0.Add(time.Second), c.ConsumerCreationTimestamp)

	clk.Advance(time.Second)
	for _, ref := range []shardlog.ConsumerRef{
		{ConsumerARN: c.ConsumerARN},
		{StreamARN: s.ARN(), ConsumerName: "app"},
		{StreamARN: s.ARN(), ConsumerName: "app", ConsumerARN: c.ConsumerARN},
	} {
		got, err := a.DescribeStreamConsumer(ctx, ref)
		require.NoError(t, err)
		require.Equal(t, shardlog.ConsumerActive, got.ConsumerStatus)
		require.Equal(t, c.ConsumerARN, got.ConsumerARN)
	}
	for _, tc := range []struct {
		ref  shardlog.ConsumerRef
		code *shardlog.Error
	}{
		{shardlog.ConsumerRef{}, shardlog.ErrInvalidArgument},
		{shardlog.ConsumerRef{StreamARN: s.ARN()}, shardlog.ErrInvalidArgument},
		{shardlog.ConsumerRef{ConsumerARN: c.ConsumerARN, ConsumerName: "other"}, shardlog.ErrInvalidArgument},
		{shardlog.ConsumerRef{ConsumerARN: "not an arn"}, shardlog.ErrValidation},
		{shardlog.ConsumerRef{StreamARN: s.ARN(), ConsumerName: "nobody"}, shardlog.ErrResourceNotFound},
		{shardlog.ConsumerRef{ConsumerARN: strings.TrimSuffix(c.ConsumerARN, "1") + "9"}, shardlog.ErrResourceNotFound},
		{shardlog.ConsumerRef{StreamARN: a.StreamARN("nostream"), ConsumerName: "app"}, shardlog.ErrResourceNotFound},
	} {
		_, err := a.DescribeStreamConsumer(ctx, tc.ref)
		requireCode(t, err, tc.code, "")
	}

	_, err := s.RegisterStreamConsumer(ctx, "app")
	requireCode(t, err, shardlog.ErrResourceInUse, "Consumer app under stream s already exists for account 123456789012.")
	_, err = s.RegisterStreamConsumer(ctx, "bad name")
	requireCode(t, err, shardlog.ErrValidation, "")
	_, err = s.RegisterStreamConsumer(ctx, "")
	requireCode(t, err, shardlog.ErrValidation, "")

	sum, err := s.DescribeStreamSummary(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, sum.ConsumerCount)

	require.NoError(t, a.DeregisterStreamConsumer(ctx, shardlog.ConsumerRef{StreamARN: s.ARN(), ConsumerName: "app"}))
	got, err := a.DescribeStreamConsumer(ctx, shardlog.ConsumerRef{ConsumerARN: c.ConsumerARN})
	require.NoError(t, err)
	require.Equal(t, shardlog.ConsumerDeleting, got.ConsumerStatus)
	requireCode(t, a.DeregisterStreamConsumer(ctx, shardlog.ConsumerRef{ConsumerARN: c.ConsumerARN}), shardlog.ErrResourceInUse, "")
	clk.Advance(time.Second)
	_, err = a.DescribeStreamConsumer(ctx, shardlog.ConsumerRef{ConsumerARN: c.ConsumerARN})
	requireCode(t, err, shardlog.ErrResourceNotFound, "Consumer app under stream s not found for account 123456789012.")

	again := register(t, s, "app")
	require.NotEqual(t, c.ConsumerARN, again.ConsumerARN, "the creation time makes a new ARN")
}

func TestConsumerLimits(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithDelays(shardlog.Delays{RegisterConsumer: time.Minute}))
	s := newStream(t, a, "s", 1)
	for i := 0; i < 5; i++ {
		register(t, s, fmt.Sprint("c", i))
	}
	_, err := s.RegisterStreamConsumer(ctx, "c5")
	requireCode(t, err, shardlog.ErrLimitExceeded, "")
	clk.Advance(time.Minute)
	for i := 5; i < 20; i++ {
		register(t, s, fmt.Sprint("c", i))
		if i%5 == 4 {
			clk.Advance(time.Minute)
		}
	}
	_, err = s.RegisterStreamConsumer(ctx, "c20")
	requireCode(t, err, shardlog.ErrLimitExceeded, "Consumer limit of 20 for stream s under account 123456789012 exceeded.")

	page, err := s.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{MaxResults: 8})
	require.NoError(t, err)
	require.Len(t, page.Consumers, 8)
	require.Equal(t, "c0", page.Consumers[0].ConsumerName)
	require.Equal(t, "c15", page.Consumers[7].ConsumerName, "name order")
	var names []string
	for tok := page.NextToken; ; {
		for _, c := range page.Consumers {
			names = append(names, c.ConsumerName)
		}
		if tok == "" {
			break
		}
		page, err = s.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{MaxResults: 8, NextToken: tok})
		require.NoError(t, err)
		tok = page.NextToken
	}
	require.Len(t, names, 20)
	first, err := s.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{MaxResults: 1})
	require.NoError(t, err)
	_, err = s.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{MaxResults: 10001})
	requireCode(t, err, shardlog.ErrValidation, "")
	_, err = s.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{NextToken: "junk"})
	requireCode(t, err, shardlog.ErrInvalidArgument, "")
	_, err = s.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{StreamCreationTimestamp: t0.Add(time.Hour)})
	requireCode(t, err, shardlog.ErrResourceNotFound, "")
	clk.Advance(301 * time.Second)
	_, err = s.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{NextToken: first.NextToken})
	requireCode(t, err, shardlog.ErrExpiredNextToken, "")

	// A stream with consumers is deleted only when forced.
	requireCode(t, a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "s"}}), shardlog.ErrResourceInUse, "")
	require.NoError(t, a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "s"}, EnforceConsumerDeletion: true}))
}

func subscribe(t testing.TB, a *shardlog.Account, arn, shard string, p shardlog.StartingPosition) *shardlog.Subscription {
	t.Helper()
	sub, err := a.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerARN: arn, ShardID: shard, StartingPosition: p})
	require.NoError(t, err)
	t.Cleanup(func() { sub.Close() })
	return sub
}

// next receives the next event, failing rather than hanging if none comes.
func next(t testing.TB, sub *shardlog.Subscription) (shardlog.SubscribeToShardEvent, bool) {
	t.Helper()
	select {
	case ev, ok := <-sub.Events():
		return ev, ok
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
		return shardlog.SubscribeToShardEvent{}, false
	}
}

// receive collects records until n have arrived.
func receive(t testing.TB, sub *shardlog.Subscription, n int) []string {
	t.Helper()
	var got []string
	for len(got) < n {
		ev, ok := next(t, sub)
		require.True(t, ok, "ended after %d of %d records: %v", len(got), n, sub.Err())
		got = append(got, dataOf(ev.Records)...)
	}
	return got
}

func TestSubscribeStartingPositions(t *testing.T) {
	for _, tc := range []struct {
		typ  shardlog.IteratorType
		want []string
	}{
		{shardlog.TrimHorizon, []string{"0", "1", "2", "3"}},
		{shardlog.Latest, nil},
		{shardlog.AtSequenceNumber, []string{"1", "2", "3"}},
		{shardlog.AfterSequenceNumber, []string{"2", "3"}},
		{shardlog.AtTimestamp, []string{"2", "3"}},
	} {
		t.Run(string(tc.typ), func(t *testing.T) {
			a, clk := newAccount(t)
			s := newStream(t, a, "s", 1)
			c := register(t, s, "app")
			var seqs []shardlog.SequenceNumber
			for i := 0; i < 4; i++ {
				seqs = append(seqs, put(t, s, "k", fmt.Sprint(i)).SequenceNumber)
				clk.Advance(time.Second)
			}
			p := shardlog.StartingPosition{Type: tc.typ}
			switch tc.typ {
			case shardlog.AtSequenceNumber, shardlog.AfterSequenceNumber:
				p.SequenceNumber = seqs[1]
			case shardlog.AtTimestamp:
				p.Timestamp = t0.Add(2 * time.Second)
			}
			sub := subscribe(t, a, c.ConsumerARN, shard0, p)
			if tc.want != nil {
				require.Equal(t, tc.want, receive(t, sub, len(tc.want)))
			}
			r := put(t, s, "k", "live")
			ev, ok := next(t, sub)
			require.True(t, ok)
			require.Equal(t, []string{"live"}, dataOf(ev.Records))
			require.Equal(t, r.SequenceNumber, ev.ContinuationSequenceNumber, "resume with AFTER_SEQUENCE_NUMBER of the last record")
			require.Zero(t, ev.MillisBehindLatest)
			require.NoError(t, sub.Close())
			require.NoError(t, sub.Err())
		})
	}
}

func TestSubscribeErrors(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithDelays(shardlog.Delays{RegisterConsumer: time.Second}))
	s := newStream(t, a, "s", 1)
	c := register(t, s, "app")
	_, err := a.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerARN: c.ConsumerARN, ShardID: shard0, StartingPosition: shardlog.StartingPosition{Type: shardlog.Latest}})
	requireCode(t, err, shardlog.ErrResourceInUse, "")
	clk.Advance(time.Second)
	for _, tc := range []struct {
		arn, shard string
		p          shardlog.StartingPosition
		code       *shardlog.Error
	}{
		{"", shard0, shardlog.StartingPosition{Type: shardlog.Latest}, shardlog.ErrValidation},
		{c.ConsumerARN + "0", shard0, shardlog.StartingPosition{Type: shardlog.Latest}, shardlog.ErrResourceNotFound},
		{c.ConsumerARN, "shardId-000000000001", shardlog.StartingPosition{Type: shardlog.Latest}, shardlog.ErrResourceNotFound},
		{c.ConsumerARN, shard0, shardlog.StartingPosition{Type: shardlog.AtSequenceNumber}, shardlog.ErrInvalidArgument},
		{c.ConsumerARN, shard0, shardlog.StartingPosition{Type: "NOW"}, shardlog.ErrValidation},
	} {
		_, err := a.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerARN: tc.arn, ShardID: tc.shard, StartingPosition: tc.p})
		requireCode(t, err, tc.code, "")
	}
}

func TestSubscriptionLifetimeAndResubscribeRules(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	c := register(t, s, "app")
	first := subscribe(t, a, c.ConsumerARN, shard0, shardlog.StartingPosition{Type: shardlog.Latest})

	clk.Advance(4999 * time.Millisecond)
	_, err := a.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerARN: c.ConsumerARN, ShardID: shard0, StartingPosition: shardlog.StartingPosition{Type: shardlog.Latest}})
	requireCode(t, err, shardlog.ErrResourceInUse, "")
	put(t, s, "k", "still mine")
	require.Equal(t, []string{"still mine"}, receive(t, first, 1))

	clk.Advance(time.Millisecond) // 5 s after the first call: take over
	second := subscribe(t, a, c.ConsumerARN, shard0, shardlog.StartingPosition{Type: shardlog.Latest})
	_, ok := next(t, first)
	require.False(t, ok)
	requireCode(t, first.Err(), shardlog.ErrResourceInUse, "")

	// The second lives five minutes from its call.
	clk.Advance(5*time.Minute - time.Millisecond)
	put(t, s, "k", "just in time")
	require.Equal(t, []string{"just in time"}, receive(t, second, 1))
	clk.Advance(time.Millisecond)
	_, ok = next(t, second)
	require.False(t, ok, "ends after five minutes")
	require.NoError(t, second.Err(), "a clean end")

	// Resume exactly where it stopped, from the continuation number.
	put(t, s, "k", "after")
	clk.Advance(5 * time.Second)
	ls, _ := s.ListShards(ctx, shardlog.ListShardsInput{})
	third := subscribe(t, a, c.ConsumerARN, shard0, shardlog.StartingPosition{Type: shardlog.AfterSequenceNumber, SequenceNumber: ls.Shards[0].SequenceNumberRange.StartingSequenceNumber})
	require.Equal(t, []string{"still mine", "just in time", "after"}, receive(t, third, 3))
}

func TestSubscriptionHeartbeat(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithHeartbeat(time.Second))
	s := newStream(t, a, "s", 1)
	c := register(t, s, "app")
	r := put(t, s, "k", "x")
	sub := subscribe(t, a, c.ConsumerARN, shard0, shardlog.StartingPosition{Type: shardlog.Latest})
	clk.Advance(time.Second)
	ev, ok := next(t, sub)
	require.True(t, ok)
	require.Empty(t, ev.Records)
	require.NotNil(t, ev.Records)
	require.Equal(t, r.SequenceNumber, ev.ContinuationSequenceNumber, "checkpoint: after the last record")
}

func TestSubscriptionEndsAtClosedShard(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	c := register(t, s, "app")
	put(t, s, "k", "before")
	sub := subscribe(t, a, c.ConsumerARN, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	require.Equal(t, []string{"before"}, receive(t, sub, 1))
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "1000"})))
	ev, ok := next(t, sub)
	require.True(t, ok)
	require.Empty(t, ev.Records)
	require.True(t, ev.ContinuationSequenceNumber.IsZero(), "no continuation at the shard's end")
	require.Equal(t, []string{"shardId-000000000001", "shardId-000000000002"}, []string{ev.ChildShards[0].ShardID, ev.ChildShards[1].ShardID})
	require.Equal(t, []string{shard0}, ev.ChildShards[0].ParentShards)
	_, ok = next(t, sub)
	require.False(t, ok)
	require.NoError(t, sub.Err())
}

func TestSubscriptionRateLimitDelaysButLosesNothing(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithLimits(shardlog.Limits{FanOutBytesPerSecond: 1000}))
	s := newStream(t, a, "s", 1)
	c := register(t, s, "app")
	var want []string
	for i := 0; i < 10; i++ { // 5000 bytes: one event, 4 s over the 1000-byte burst
		want = append(want, fmt.Sprintf("%03d", i))
		put(t, s, "k", want[i]+strings.Repeat(".", 496))
	}
	sub := subscribe(t, a, c.ConsumerARN, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	var got []string
	for steps := 0; len(got) < len(want) && steps < 600; steps++ {
		select {
		case ev, ok := <-sub.Events():
			require.True(t, ok, "ended early: %v", sub.Err())
			require.GreaterOrEqual(t, clk.Now().Sub(t0), 4*time.Second, "delivered before the limit allowed")
			for _, r := range ev.Records {
				got = append(got, string(r.Data[:3]))
			}
		case <-time.After(time.Millisecond):
			clk.Advance(100 * time.Millisecond) // delivery waits on the account's clock
		}
	}
	require.Equal(t, want, got, "nothing lost")
}

func TestSlowSubscriberDoesNotSlowOthers(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	slow := register(t, s, "slow")
	fast := register(t, s, "fast")
	stuck := subscribe(t, a, slow.ConsumerARN, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	sub := subscribe(t, a, fast.ConsumerARN, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	var want []string
	for i := 0; i < 5000; i++ {
		want = append(want, fmt.Sprint(i))
		put(t, s, "k", want[i]) // never blocks, though "slow" receives nothing
	}
	require.Equal(t, want, receive(t, sub, len(want)))
	// The slow one still gets everything, from the start, when it reads.
	require.Equal(t, want, receive(t, stuck, len(want)))
}

func TestSubscriptionEndings(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	d := newStream(t, a, "d", 1)
	cs := register(t, s, "a")
	cs2 := register(t, s, "b")
	cd := register(t, d, "a")

	deregistered := subscribe(t, a, cs.ConsumerARN, shard0, shardlog.StartingPosition{Type: shardlog.Latest})
	require.NoError(t, a.DeregisterStreamConsumer(ctx, shardlog.ConsumerRef{ConsumerARN: cs.ConsumerARN}))
	_, ok := next(t, deregistered)
	require.False(t, ok)
	requireCode(t, deregistered.Err(), shardlog.ErrResourceNotFound, "")

	deleted := subscribe(t, a, cd.ConsumerARN, shard0, shardlog.StartingPosition{Type: shardlog.Latest})
	require.NoError(t, a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "d"}, EnforceConsumerDeletion: true}))
	_, ok = next(t, deleted)
	require.False(t, ok)
	requireCode(t, deleted.Err(), shardlog.ErrResourceNotFound, "")

	cctx, cancel := contextWithCancel()
	cancelled, err := a.SubscribeToShard(cctx, shardlog.SubscribeToShardInput{ConsumerARN: cs2.ConsumerARN, ShardID: shard0, StartingPosition: shardlog.StartingPosition{Type: shardlog.Latest}})
	require.NoError(t, err)
	cancel()
	_, ok = next(t, cancelled)
	require.False(t, ok)
	require.ErrorIs(t, cancelled.Err(), errCanceled)

	u := newStream(t, a, "u", 2)
	cu := register(t, u, "a")
	open := []*shardlog.Subscription{
		subscribe(t, a, cu.ConsumerARN, shard0, shardlog.StartingPosition{Type: shardlog.Latest}),
		subscribe(t, a, cu.ConsumerARN, "shardId-000000000001", shardlog.StartingPosition{Type: shardlog.Latest}),
	}
	require.NoError(t, a.Close())
	for _, sub := range open {
		_, ok := next(t, sub)
		require.False(t, ok)
		require.ErrorIs(t, sub.Err(), shardlog.ErrClosed)
	}
	_, err = a.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerARN: cu.ConsumerARN, ShardID: shard0, StartingPosition: shardlog.StartingPosition{Type: shardlog.Latest}})
	require.ErrorIs(t, err, shardlog.ErrClosed)
}
