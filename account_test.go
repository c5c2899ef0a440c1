package shardlog_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

func TestCreateStreamValidation(t *testing.T) {
	a, _ := newAccount(t)
	for _, tc := range []struct {
		name   string
		in     shardlog.CreateStreamInput
		code   *shardlog.Error
		detail string
	}{
		{"empty name", shardlog.CreateStreamInput{ShardCount: 1}, shardlog.ErrValidation,
			"1 validation error detected: Value at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"long name", shardlog.CreateStreamInput{StreamName: strings.Repeat("a", 129), ShardCount: 1}, shardlog.ErrValidation,
			"1 validation error detected: Value '" + strings.Repeat("a", 129) + "' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"bad character", shardlog.CreateStreamInput{StreamName: "a/b", ShardCount: 1}, shardlog.ErrValidation,
			"1 validation error detected: Value 'a/b' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"zero shards", shardlog.CreateStreamInput{StreamName: "s", ShardCount: 0}, shardlog.ErrValidation,
			"1 validation error detected: Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"negative shards", shardlog.CreateStreamInput{StreamName: "s", ShardCount: -3}, shardlog.ErrValidation, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireCode(t, errOf(a.CreateStream(ctx, tc.in)), tc.code, tc.detail)
		})
	}
	require.NoError(t, errOf(a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: strings.Repeat("a", 128), ShardCount: 1})))
	require.NoError(t, errOf(a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "Az09_.-", ShardCount: 1})))
	out, err := a.ListStreams(ctx, shardlog.ListStreamsInput{})
	require.NoError(t, err)
	require.Len(t, out.StreamNames, 2, "failed creates leave nothing behind")
}

func TestCreateStreamDuplicateAndShardLimit(t *testing.T) {
	a, _ := newAccount(t, shardlog.WithShardLimit(10))
	newStream(t, a, "s", 6)
	requireCode(t, errOf(a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: 1})),
		shardlog.ErrResourceInUse, "Stream s under account 123456789012 already exists.")
	_, err := a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "t", ShardCount: 5})
	requireCode(t, err, shardlog.ErrLimitExceeded, "")
	require.Contains(t, err.Error(), "This request would exceed the shard limit for the account 123456789012 in us-east-1. Current shard count for the account: 6. Limit: 10. Number of additional shards that would have resulted from this request: 5.")
	require.NoError(t, errOf(a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "t", ShardCount: 4})))
	lim, err := a.DescribeLimits(ctx)
	require.NoError(t, err)
	require.Equal(t, shardlog.AccountLimits{ShardLimit: 10, OpenShardCount: 10, OnDemandStreamCountLimit: 50}, lim)
}

func TestStreamLifecycleWithDelays(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithDelays(shardlog.Delays{Create: time.Second, Delete: 2 * time.Second}))
	require.NoError(t, errOf(a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: 2})))
	s, err := a.Stream(shardlog.StreamRef{StreamName: "s"})
	require.NoError(t, err)
	sum, err := s.DescribeStreamSummary(ctx)
	require.NoError(t, err)
	require.Equal(t, shardlog.StatusCreating, sum.StreamStatus)
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})
	requireCode(t, err, shardlog.ErrResourceNotFound, "Stream s under account 123456789012 not found.")
	_, err = s.GetShardIterator(ctx, "shardId-000000000000", shardlog.StartingPosition{Type: shardlog.Latest})
	requireCode(t, err, shardlog.ErrResourceNotFound, "")

	clk.Advance(time.Second)
	sum, err = s.DescribeStreamSummary(ctx)
	require.NoError(t, err)
	require.Equal(t, shardlog.StatusActive, sum.StreamStatus)
	put(t, s, "k", "x")

	require.NoError(t, a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "s"}}))
	sum, err = s.DescribeStreamSummary(ctx)
	require.NoError(t, err)
	require.Equal(t, shardlog.StatusDeleting, sum.StreamStatus)
	requireCode(t, a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "s"}}), shardlog.ErrResourceInUse, "")
	requireCode(t, errOf(a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: 1})), shardlog.ErrResourceInUse, "")

	clk.Advance(2 * time.Second)
	_, err = s.DescribeStreamSummary(ctx)
	requireCode(t, err, shardlog.ErrResourceNotFound, "Stream s under account 123456789012 not found.")
	_, err = a.Stream(shardlog.StreamRef{StreamName: "s"})
	requireCode(t, err, shardlog.ErrResourceNotFound, "")
	requireCode(t, a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "s"}}), shardlog.ErrResourceNotFound, "")

	// The name is free again; the old handle stays bound to the old stream.
	require.NoError(t, errOf(a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: 1})))
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})
	requireCode(t, err, shardlog.ErrResourceNotFound, "")
}

func TestFiveStreamsCreatingAtOnce(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithDelays(shardlog.Delays{Create: time.Minute}))
	for i := 0; i < 5; i++ {
		require.NoError(t, errOf(a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: fmt.Sprint("s", i), ShardCount: 1})))
	}
	requireCode(t, errOf(a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s5", ShardCount: 1})), shardlog.ErrLimitExceeded, "")
	clk.Advance(time.Minute)
	require.NoError(t, errOf(a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s5", ShardCount: 1})))
}

func TestStreamRefByNameOrARN(t *testing.T) {
	a, _ := newAccount(t, shardlog.WithRegion("eu-west-1"))
	s := newStream(t, a, "orders", 1)
	require.Equal(t, "arn:aws:kinesis:eu-west-1:123456789012:stream/orders", s.ARN())
	require.Equal(t, s.ARN(), a.StreamARN("orders"))

	got, err := a.Stream(shardlog.StreamRef{StreamARN: s.ARN()})
	require.NoError(t, err)
	require.Same(t, s, got)
	got, err = a.Stream(shardlog.StreamRef{StreamName: "orders", StreamARN: s.ARN()})
	require.NoError(t, err)
	require.Same(t, s, got)

	for _, tc := range []struct {
		ref  shardlog.StreamRef
		code *shardlog.Error
	}{
		{shardlog.StreamRef{}, shardlog.ErrInvalidArgument},
		{shardlog.StreamRef{StreamName: "other", StreamARN: s.ARN()}, shardlog.ErrInvalidArgument},
		{shardlog.StreamRef{StreamName: "missing"}, shardlog.ErrResourceNotFound},
		{shardlog.StreamRef{StreamName: "bad name"}, shardlog.ErrValidation},
		{shardlog.StreamRef{StreamARN: "arn:aws:kinesis:eu-west-1:123456789012:stream/missing"}, shardlog.ErrResourceNotFound},
		{shardlog.StreamRef{StreamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/orders"}, shardlog.ErrResourceNotFound},
		{shardlog.StreamRef{StreamARN: "arn:aws:kinesis:eu-west-1:999999999999:stream/orders"}, shardlog.ErrResourceNotFound},
		{shardlog.StreamRef{StreamARN: "arn:aws:sqs:eu-west-1:123456789012:stream/orders"}, shardlog.ErrValidation},
		{shardlog.StreamRef{StreamARN: "orders"}, shardlog.ErrValidation},
		{shardlog.StreamRef{StreamARN: "arn:aws:kinesis:eu-west-1:123456789012:table/orders"}, shardlog.ErrValidation},
	} {
		_, err := a.Stream(tc.ref)
		requireCode(t, err, tc.code, "")
	}
}

func TestListStreamsPaginates(t *testing.T) {
	a, clk := newAccount(t)
	for _, n := range []string{"c", "a", "e", "b", "d"} {
		newStream(t, a, n, 1)
	}
	out, err := a.ListStreams(ctx, shardlog.ListStreamsInput{Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, out.StreamNames)
	require.True(t, out.HasMoreStreams)
	require.Equal(t, "arn:aws:kinesis:us-east-1:123456789012:stream/a", out.StreamSummaries[0].StreamARN)
	require.Equal(t, shardlog.StatusActive, out.StreamSummaries[0].StreamStatus)
	require.Equal(t, shardlog.Provisioned, out.StreamSummaries[0].StreamMode)
	require.Equal(t, t0, out.StreamSummaries[0].StreamCreationTimestamp)

	out, err = a.ListStreams(ctx, shardlog.ListStreamsInput{Limit: 2, NextToken: out.NextToken})
	require.NoError(t, err)
	require.Equal(t, []string{"c", "d"}, out.StreamNames)
	out, err = a.ListStreams(ctx, shardlog.ListStreamsInput{NextToken: out.NextToken})
	require.NoError(t, err)
	require.Equal(t, []string{"e"}, out.StreamNames)
	require.False(t, out.HasMoreStreams)
	require.Empty(t, out.NextToken)

	out, err = a.ListStreams(ctx, shardlog.ListStreamsInput{ExclusiveStartStreamName: "b"})
	require.NoError(t, err)
	require.Equal(t, []string{"c", "d", "e"}, out.StreamNames)

	first, err := a.ListStreams(ctx, shardlog.ListStreamsInput{Limit: 1})
	require.NoError(t, err)
	_, err = a.ListStreams(ctx, shardlog.ListStreamsInput{NextToken: first.NextToken, ExclusiveStartStreamName: "a"})
	requireCode(t, err, shardlog.ErrInvalidArgument, "")
	_, err = a.ListStreams(ctx, shardlog.ListStreamsInput{NextToken: "garbage"})
	requireCode(t, err, shardlog.ErrInvalidArgument, "")
	_, err = a.ListStreams(ctx, shardlog.ListStreamsInput{Limit: 10001})
	requireCode(t, err, shardlog.ErrValidation, "")
	_, err = a.ListStreams(ctx, shardlog.ListStreamsInput{Limit: -1})
	requireCode(t, err, shardlog.ErrValidation, "")

	clk.Advance(300 * time.Second)
	_, err = a.ListStreams(ctx, shardlog.ListStreamsInput{NextToken: first.NextToken})
	require.NoError(t, err, "valid for 300 s")
	clk.Advance(time.Millisecond)
	_, err = a.ListStreams(ctx, shardlog.ListStreamsInput{NextToken: first.NextToken})
	requireCode(t, err, shardlog.ErrExpiredNextToken, "")
}

func TestListStreamsLimitCapsAt100(t *testing.T) {
	a, _ := newAccount(t)
	for i := 0; i < 120; i++ {
		newStream(t, a, fmt.Sprintf("s%03d", i), 1)
	}
	out, err := a.ListStreams(ctx, shardlog.ListStreamsInput{Limit: 10000})
	require.NoError(t, err)
	require.Len(t, out.StreamNames, 100)
	out, err = a.ListStreams(ctx, shardlog.ListStreamsInput{})
	require.NoError(t, err)
	require.Len(t, out.StreamNames, 100)
	require.True(t, out.HasMoreStreams)
}

func TestCloseIsIdempotentAndFinal(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	require.NoError(t, a.Close())
	require.NoError(t, a.Close())
	require.ErrorIs(t, errOf(a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "t", ShardCount: 1})), shardlog.ErrClosed)
	_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k"})
	require.ErrorIs(t, err, shardlog.ErrClosed)
	_, err = a.Stream(shardlog.StreamRef{StreamName: "s"})
	require.ErrorIs(t, err, shardlog.ErrClosed)
	_, err = a.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: "x"})
	require.ErrorIs(t, err, shardlog.ErrClosed)
	_, err = a.ListStreams(ctx, shardlog.ListStreamsInput{})
	require.ErrorIs(t, err, shardlog.ErrClosed)
}

func TestCancelledContext(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := s.Put(cctx, shardlog.PutInput{PartitionKey: "k"})
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, errOf(a.CreateStream(cctx, shardlog.CreateStreamInput{StreamName: "t", ShardCount: 1})), context.Canceled)
	require.Empty(t, readShard(t, s, "shardId-000000000000"))
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []shardlog.Option{
		shardlog.WithClock(nil), shardlog.WithRegion("US East"), shardlog.WithAccountID("12345"),
		shardlog.WithShardLimit(0), shardlog.WithLimits(shardlog.Limits{ReadCallsPerSecond: -1}),
		shardlog.WithMaxRecordSize(100), shardlog.WithMaxRecordSize(11 << 20), shardlog.WithMaxBatchSize(0),
		shardlog.WithDelays(shardlog.Delays{Create: -1}), shardlog.WithHasher(shardlog.Hasher(9)),
	} {
		_, err := shardlog.NewAccount(o)
		require.Error(t, err)
	}
}

func TestNewStreamOwnsItsAccount(t *testing.T) {
	s, err := shardlog.NewStream("log", 2, shardlog.WithoutLimits())
	require.NoError(t, err)
	put(t, s, "k", "v")
	require.Equal(t, "log", s.Name())
	require.NoError(t, s.Close())
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k"})
	require.ErrorIs(t, err, shardlog.ErrClosed)

	_, err = shardlog.NewStream("bad name", 1)
	requireCode(t, err, shardlog.ErrValidation, "")
	_, err = shardlog.NewStream("s", 1, shardlog.WithShardLimit(-1))
	require.Error(t, err)
}

func TestListStreamsReportsTheMode(t *testing.T) {
	a, _ := newAccount(t)
	require.NoError(t, errOf(a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "od", Mode: shardlog.OnDemand})))
	s := newStream(t, a, "pv", 1)
	require.NoError(t, s.UpdateStreamMode(ctx, shardlog.OnDemand))
	out, err := a.ListStreams(ctx, shardlog.ListStreamsInput{})
	require.NoError(t, err)
	for _, sum := range out.StreamSummaries {
		require.Equal(t, shardlog.OnDemand, sum.StreamMode, sum.StreamName)
	}
	od, err := a.Stream(shardlog.StreamRef{StreamName: "od"})
	require.NoError(t, err)
	d, err := od.DescribeStreamSummary(ctx)
	require.NoError(t, err)
	require.Equal(t, 4, d.OpenShardCount, "ON_DEMAND streams start with 4 shards")
	requireCode(t, errOf(od.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "1000"})), shardlog.ErrValidation, "")
}

// TestStreamOfAnAccountIsNotClosedByItself: Close on a stream the account
// owns says so, and the stream works on.
func TestStreamOfAnAccountIsNotClosedByItself(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	require.ErrorIs(t, s.Close(), shardlog.ErrNotOwner)
	put(t, s, "k", "still open")
}
