package kinesisapi_test

import (
	"context"
	"errors"

	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/kinesisapi"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	ctx = context.Background()
	t0  = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

// setup serves a fresh account (manual clock, limits off unless opts say
// otherwise) and returns the real SDK client pointed at it, retries off.
func setup(t testing.TB, opts ...shardlog.Option) (*kinesis.Client, *shardlog.Account, *shardlog.ManualClock) {
	t.Helper()
	clk := shardlog.NewManualClock(t0)
	acct, err := shardlog.NewAccount(append([]shardlog.Option{shardlog.WithClock(clk), shardlog.WithoutLimits(), shardlog.WithAccountID("123456789012")}, opts...)...)
	require.NoError(t, err)
	srv := httptest.NewServer(kinesisapi.NewHandler(acct, kinesisapi.WithUnsignedRequests()))
	t.Cleanup(func() {
		srv.Close()
		acct.Close()
	})
	client := kinesis.New(kinesis.Options{
		BaseEndpoint:     aws.String(srv.URL),
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       sdkClient(srv.Client()),
	})
	return client, acct, clk
}

func create(t testing.TB, c *kinesis.Client, name string, shards int32) {
	t.Helper()
	_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)})
	require.NoError(t, err)
}

func TestStreamLifecycleThroughSDK(t *testing.T) {
	c, _, _ := setup(t)
	_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("orders"), ShardCount: aws.Int32(3), Tags: map[string]string{"team": "a"}})
	require.NoError(t, err)

	sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("orders")})
	require.NoError(t, err)
	d := sum.StreamDescriptionSummary
	require.Equal(t, "arn:aws:kinesis:us-east-1:123456789012:stream/orders", *d.StreamARN)
	require.Equal(t, types.StreamStatusActive, d.StreamStatus)
	require.Equal(t, int32(3), *d.OpenShardCount)
	require.Equal(t, int32(24), *d.RetentionPeriodHours)
	require.Equal(t, types.StreamModeProvisioned, d.StreamModeDetails.StreamMode)
	require.Equal(t, types.EncryptionTypeNone, d.EncryptionType)
	require.True(t, t0.Equal(*d.StreamCreationTimestamp))

	desc, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamARN: d.StreamARN, Limit: aws.Int32(2)})
	require.NoError(t, err)
	require.Len(t, desc.StreamDescription.Shards, 2)
	require.True(t, *desc.StreamDescription.HasMoreShards)
	require.Equal(t, "113427455640312821154458202477256070485", *desc.StreamDescription.Shards[1].HashKeyRange.StartingHashKey)
	require.Nil(t, desc.StreamDescription.Shards[0].SequenceNumberRange.EndingSequenceNumber)

	ls, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{})
	require.NoError(t, err)
	require.Equal(t, []string{"orders"}, ls.StreamNames)
	require.False(t, *ls.HasMoreStreams)
	require.Equal(t, "orders", *ls.StreamSummaries[0].StreamName)

	tags, err := c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("orders")})
	require.NoError(t, err)
	require.Equal(t, []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}, tags.Tags)
	_, err = c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamARN: d.StreamARN, Tags: map[string]string{"env": "test"}})
	require.NoError(t, err)
	_, err = c.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamName: aws.String("orders"), TagKeys: []string{"team", "unknown"}})
	require.NoError(t, err)
	tags, err = c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("orders")})
	require.NoError(t, err)
	require.Equal(t, []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}}, tags.Tags)

	lim, err := c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
	require.NoError(t, err)
	require.Equal(t, int32(20000), *lim.ShardLimit)
	require.Equal(t, int32(3), *lim.OpenShardCount)

	_, err = c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("orders"), RetentionPeriodHours: aws.Int32(48)})
	require.NoError(t, err)
	_, err = c.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamARN: d.StreamARN, RetentionPeriodHours: aws.Int32(36)})
	require.NoError(t, err)

	mon, err := c.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String("orders"), ShardLevelMetrics: []types.MetricsName{types.MetricsNameIncomingBytes}})
	require.NoError(t, err)
	require.Empty(t, mon.CurrentShardLevelMetrics)
	require.Equal(t, []types.MetricsName{types.MetricsNameIncomingBytes}, mon.DesiredShardLevelMetrics)
	_, err = c.DisableEnhancedMonitoring(ctx, &kinesis.DisableEnhancedMonitoringInput{StreamName: aws.String("orders"), ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}})
	require.NoError(t, err)
	_, err = c.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamName: aws.String("orders"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")})
	require.NoError(t, err)
	put, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("orders"), PartitionKey: aws.String("k"), Data: []byte("x")})
	require.NoError(t, err)
	require.Equal(t, types.EncryptionTypeKms, put.EncryptionType)
	_, err = c.StopStreamEncryption(ctx, &kinesis.StopStreamEncryptionInput{StreamName: aws.String("orders"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")})
	require.NoError(t, err)
	_, err = c.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: d.StreamARN, StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
	require.NoError(t, err)
	sum, err = c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: d.StreamARN})
	require.NoError(t, err)
	require.Equal(t, types.StreamModeOnDemand, sum.StreamDescriptionSummary.StreamModeDetails.StreamMode)
	require.Equal(t, int32(36), *sum.StreamDescriptionSummary.RetentionPeriodHours)
	require.Equal(t, types.EncryptionTypeNone, sum.StreamDescriptionSummary.EncryptionType)

	_, err = c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamARN: d.StreamARN})
	require.NoError(t, err)
	_, err = c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("orders")})
	var nf *types.ResourceNotFoundException
	require.ErrorAs(t, err, &nf)
	require.Equal(t, "Stream orders under account 123456789012 not found.", *nf.Message)
}

func TestPutAndGetRecordsThroughSDK(t *testing.T) {
	c, _, clk := setup(t)
	create(t, c, "s", 2)
	arn := aws.String("arn:aws:kinesis:us-east-1:123456789012:stream/s")
	var entries []types.PutRecordsRequestEntry
	for i := 0; i < 10; i++ {
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint("key-", i)), Data: []byte(fmt.Sprint("data-", i))})
	}
	entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte{}, ExplicitHashKey: aws.String("0")})
	res, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: arn, Records: entries})
	require.NoError(t, err)
	require.Equal(t, int32(0), *res.FailedRecordCount)
	require.Len(t, res.Records, 11)
	require.Equal(t, "shardId-000000000000", *res.Records[10].ShardId)

	clk.Advance(1500 * time.Millisecond)
	one, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: arn, PartitionKey: aws.String("solo"), Data: []byte{0, 1, 2, 255}, ExplicitHashKey: aws.String("0")})
	require.NoError(t, err)
	require.Len(t, *one.SequenceNumber, 56)

	shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: arn})
	require.NoError(t, err)
	total := 0
	for _, sh := range shards.Shards {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: arn, ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		require.NoError(t, err)
		out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, StreamARN: arn})
		require.NoError(t, err)
		require.NotNil(t, out.NextShardIterator)
		require.Equal(t, int64(0), *out.MillisBehindLatest)
		total += len(out.Records)
		if *sh.ShardId == "shardId-000000000000" {
			last := out.Records[len(out.Records)-1]
			require.Equal(t, []byte{0, 1, 2, 255}, last.Data, "binary data survives base64")
			require.Equal(t, *one.SequenceNumber, *last.SequenceNumber)
			require.True(t, t0.Add(1500*time.Millisecond).Equal(*last.ApproximateArrivalTimestamp), "millisecond timestamps: %v", last.ApproximateArrivalTimestamp)
		}
	}
	require.Equal(t, 12, total)

	at, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000000"),
		ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(t0.Add(time.Second))})
	require.NoError(t, err)
	out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: at.ShardIterator, Limit: aws.Int32(5)})
	require.NoError(t, err)
	require.Len(t, out.Records, 1)
	after, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000000"),
		ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: one.SequenceNumber})
	require.NoError(t, err)
	out, err = c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: after.ShardIterator})
	require.NoError(t, err)
	require.Empty(t, out.Records)
}

func TestReshardingAndChildShardsThroughSDK(t *testing.T) {
	c, _, _ := setup(t)
	create(t, c, "s", 2)
	_, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("s"), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("1000")})
	require.NoError(t, err)
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	require.NoError(t, err)
	out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	require.NoError(t, err)
	require.Nil(t, out.NextShardIterator, "absent, not empty, at a closed shard's end")
	require.Len(t, out.ChildShards, 2)
	require.Equal(t, []string{"shardId-000000000000"}, out.ChildShards[0].ParentShards)
	require.Equal(t, "999", *out.ChildShards[0].HashKeyRange.EndingHashKey)

	_, err = c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String("s"), ShardToMerge: aws.String("shardId-000000000003"), AdjacentShardToMerge: aws.String("shardId-000000000001")})
	require.NoError(t, err)
	up, err := c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String("s"), TargetShardCount: aws.Int32(4), ScalingType: types.ScalingTypeUniformScaling})
	require.NoError(t, err)
	require.Equal(t, int32(2), *up.CurrentShardCount)
	require.Equal(t, int32(4), *up.TargetShardCount)

	// Pagination with NextToken, and every filter type.
	var all []types.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String("s"), MaxResults: aws.Int32(3)}
	for {
		page, err := c.ListShards(ctx, in)
		require.NoError(t, err)
		all = append(all, page.Shards...)
		if page.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: page.NextToken, MaxResults: aws.Int32(3)}
	}
	require.Greater(t, len(all), 5)
	latest, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("s"), ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAtLatest}})
	require.NoError(t, err)
	require.Len(t, latest.Shards, 4)
	for _, f := range []types.ShardFilter{
		{Type: types.ShardFilterTypeAtTrimHorizon}, {Type: types.ShardFilterTypeFromTrimHorizon},
		{Type: types.ShardFilterTypeAfterShardId, ShardId: aws.String("shardId-000000000001")},
		{Type: types.ShardFilterTypeAtTimestamp, Timestamp: aws.Time(t0)}, {Type: types.ShardFilterTypeFromTimestamp, Timestamp: aws.Time(t0)},
	} {
		out, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("s"), ShardFilter: &f})
		require.NoError(t, err, f.Type)
		require.NotEmpty(t, out.Shards, f.Type)
	}
}

// TestErrorsDecodeToSDKTypes checks that every exception reaches the SDK as
// its typed error.
func TestErrorsDecodeToSDKTypes(t *testing.T) {
	c, _, clk := setup(t, shardlog.WithLimits(shardlog.Limits{WriteRecordsPerSecond: 1}), shardlog.WithShardLimit(3))
	create(t, c, "s", 1)
	_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("s"), ShardCount: aws.Int32(1)})
	var inUse *types.ResourceInUseException
	require.ErrorAs(t, err, &inUse)

	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("big"), ShardCount: aws.Int32(5)})
	var limit *types.LimitExceededException
	require.ErrorAs(t, err, &limit)

	_, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("nope"), PartitionKey: aws.String("k"), Data: []byte("x")})
	var nf *types.ResourceNotFoundException
	require.ErrorAs(t, err, &nf)

	_, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("x"), ExplicitHashKey: aws.String("340282366920938463463374607431768211456")})
	var invalid *types.InvalidArgumentException
	require.ErrorAs(t, err, &invalid)

	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("bad name"), ShardCount: aws.Int32(1)})
	var validation *types.ValidationException
	require.ErrorAs(t, err, &validation)

	_, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("x")})
	require.NoError(t, err)
	_, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("x")})
	var throttled *types.ProvisionedThroughputExceededException
	require.ErrorAs(t, err, &throttled)

	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest})
	require.NoError(t, err)
	clk.Advance(5*time.Minute + time.Second)
	_, err = c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	var expired *types.ExpiredIteratorException
	require.ErrorAs(t, err, &expired)

	page, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("s"), MaxResults: aws.Int32(1)})
	require.NoError(t, err)
	_ = page
	create(t, c, "two", 2)
	page, err = c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("two"), MaxResults: aws.Int32(1)})
	require.NoError(t, err)
	clk.Advance(301 * time.Second)
	_, err = c.ListShards(ctx, &kinesis.ListShardsInput{NextToken: page.NextToken})
	var expiredToken *types.ExpiredNextTokenException
	require.ErrorAs(t, err, &expiredToken)

	var api smithy.APIError
	require.ErrorAs(t, err, &api)
	require.Equal(t, "ExpiredNextTokenException", api.ErrorCode())
}

// subscriber reads a shard through SubscribeToShard with the real SDK. A
// stream that dies of a transport error (not a Kinesis exception) is
// resumed from the last continuation, as real consumers do: under -race
// the SDK's event-stream client occasionally loses its connection (the
// same server streams without fault to a plain HTTP client; see
// TestSubscribeToShardStreamStaysOpen).
type subscriber struct {
	t        *testing.T
	c        *kinesis.Client
	clk      *shardlog.ManualClock
	consumer *string
	cont     *string
	stream   *kinesis.SubscribeToShardEventStream
}

func (s *subscriber) open() {
	s.t.Helper()
	pos := &types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}
	if s.cont != nil {
		pos = &types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: s.cont}
		s.clk.Advance(5 * time.Second) // the same consumer and shard may subscribe again
	}
	// Each stream gets a client of its own: the SDK shares one event-stream
	// codec per client, which is not safe while the client makes other
	// calls (a data race inside smithy-go).
	out, err := kinesis.New(s.c.Options()).SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{
		ConsumerARN: s.consumer, ShardId: aws.String("shardId-000000000000"), StartingPosition: pos})
	require.NoError(s.t, err)
	s.stream = out.GetStream()
}

// next returns the next event, or nil once the stream has ended cleanly.
func (s *subscriber) next() *types.SubscribeToShardEvent {
	s.t.Helper()
	for {
		ev, ok := <-s.stream.Events()
		if ok {
			e := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent).Value
			if e.ContinuationSequenceNumber != nil {
				s.cont = e.ContinuationSequenceNumber
			}
			return &e
		}
		err := s.stream.Err()
		var api smithy.APIError
		if err == nil || errors.As(err, &api) {
			require.NoError(s.t, err)
			return nil
		}
		s.stream.Close()
		s.open() // a transport error: resume
	}
}

func TestConsumersAndSubscribeToShardThroughSDK(t *testing.T) {
	c, acct, clk := setup(t)
	create(t, c, "s", 1)
	arn := aws.String("arn:aws:kinesis:us-east-1:123456789012:stream/s")
	reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String("app")})
	require.NoError(t, err)
	require.Equal(t, types.ConsumerStatusActive, reg.Consumer.ConsumerStatus)
	desc, err := c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: reg.Consumer.ConsumerARN})
	require.NoError(t, err)
	require.Equal(t, *arn, *desc.ConsumerDescription.StreamARN)
	list, err := c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: arn})
	require.NoError(t, err)
	require.Len(t, list.Consumers, 1)

	put := func(d string) {
		_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: arn, PartitionKey: aws.String("k"), Data: []byte(d)})
		require.NoError(t, err)
	}
	put("before")
	sub := &subscriber{t: t, c: c, clk: clk, consumer: reg.Consumer.ConsumerARN}
	sub.open()
	defer func() { sub.stream.Close() }()
	var got []string
	for len(got) < 3 {
		if len(got) == 1 {
			put("live 1")
			put("live 2")
		}
		e := sub.next()
		require.NotNil(t, e, "the stream ended early")
		for _, r := range e.Records {
			got = append(got, string(r.Data))
		}
	}
	require.Equal(t, []string{"before", "live 1", "live 2"}, got)
	require.Len(t, *sub.cont, 56)

	// Split the shard: the subscription ends with ChildShards.
	s, err := acct.Stream(shardlog.StreamRef{StreamName: "s"})
	require.NoError(t, err)
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: "shardId-000000000000", NewStartingHashKey: "1000"})))
	var last *types.SubscribeToShardEvent
	for e := sub.next(); e != nil; e = sub.next() {
		require.Empty(t, e.Records, "no records after the split")
		last = e
	}
	require.NotNil(t, last)
	require.Len(t, last.ChildShards, 2)
	require.Nil(t, last.ContinuationSequenceNumber)

	_, err = c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: aws.String(*reg.Consumer.ConsumerARN + "9"), ShardId: aws.String("shardId-000000000000"),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
	var nf *types.ResourceNotFoundException
	require.ErrorAs(t, err, &nf)

	_, err = c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamARN: arn})
	var inUse *types.ResourceInUseException
	require.ErrorAs(t, err, &inUse, "consumers exist")
	_, err = c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String("app")})
	require.NoError(t, err)
	_, err = c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamARN: arn})
	require.NoError(t, err)
}

// TestSubscriptionTakeoverArrivesAsException: a takeover ends the old event
// stream with a modeled ResourceInUseException, which the SDK decodes. A
// stream lost to a transport error first (see subscriber) makes the
// scenario run again.
func TestSubscriptionTakeoverArrivesAsException(t *testing.T) {
	c, _, clk := setup(t)
	create(t, c, "s", 1)
	arn := aws.String("arn:aws:kinesis:us-east-1:123456789012:stream/s")
	reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String("app")})
	require.NoError(t, err)
	in := &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String("shardId-000000000000"),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}}
	for attempt := 0; ; attempt++ {
		require.Less(t, attempt, 5, "every attempt lost its stream to transport errors")
		clk.Advance(5 * time.Second)
		first, err := kinesis.New(c.Options()).SubscribeToShard(ctx, in)
		require.NoError(t, err)
		_, err = c.SubscribeToShard(ctx, in)
		var inUse *types.ResourceInUseException
		require.ErrorAs(t, err, &inUse, "within 5 s")
		clk.Advance(5 * time.Second)
		second, err := kinesis.New(c.Options()).SubscribeToShard(ctx, in)
		require.NoError(t, err)
		for range first.GetStream().Events() {
		}
		err = first.GetStream().Err()
		first.GetStream().Close()
		second.GetStream().Close()
		var api smithy.APIError
		if !errors.As(err, &api) {
			continue // a transport error, not the server's answer: again
		}
		require.ErrorAs(t, err, &inUse)
		return
	}
}

func TestUnknownAndMalformedRequests(t *testing.T) {
	_, acct, _ := setup(t)
	srv := httptest.NewServer(kinesisapi.NewHandler(acct, kinesisapi.WithMaxRequestBytes(1024), kinesisapi.WithUnsignedRequests()))
	defer srv.Close()
	for _, tc := range []struct {
		name, target, contentType, body string
		status                          int
		errType                         string
	}{
		{"unknown op", "Kinesis_20131202.Frobnicate", "application/x-amz-json-1.1", "{}", 400, "UnknownOperationException"},
		{"unsupported op", "Kinesis_20131202.TagResource", "application/x-amz-json-1.1", "{}", 400, "UnknownOperationException"},
		{"no target", "", "application/x-amz-json-1.1", "{}", 400, "UnknownOperationException"},
		{"bad json", "Kinesis_20131202.ListStreams", "application/x-amz-json-1.1", "{", 400, "SerializationException"},
		{"bad base64", "Kinesis_20131202.PutRecord", "application/x-amz-json-1.1", `{"StreamName":"s","PartitionKey":"k","Data":"!!"}`, 400, "SerializationException"},
		{"string timestamp", "Kinesis_20131202.GetShardIterator", "application/x-amz-json-1.1", `{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP","Timestamp":"2020-01-01"}`, 400, "SerializationException"},
		{"cbor", "Kinesis_20131202.ListStreams", "application/x-amz-cbor-1.1", "{}", 400, "SerializationException"},
		{"too large", "Kinesis_20131202.ListStreams", "application/x-amz-json-1.1", `{"x":"` + string(make([]byte, 2000)) + `"}`, 413, "SerializationException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptestRequest(srv.URL, tc.target, tc.contentType, tc.body)
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, tc.status, resp.StatusCode)
			require.Equal(t, tc.errType, resp.Header.Get("X-Amzn-ErrorType"))
			require.NotEmpty(t, resp.Header.Get("x-amzn-RequestId"))
		})
	}
}

// noBackoff retries at once: the test needs no real waiting.
type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

// TestInjectedFaultsReachTheSDK: faults injected into the account come to
// the SDK as Kinesis's errors: its retryer rides out throttling, and a
// PutRecords reports the records that failed.
func TestInjectedFaultsReachTheSDK(t *testing.T) {
	c, acct, _ := setup(t)
	create(t, c, "s", 1)
	_, err := acct.InjectFault(shardlog.Fault{Operation: "PutRecord", Times: 2, Err: shardlog.ErrProvisionedThroughputExceeded})
	require.NoError(t, err)
	retrying := kinesis.New(c.Options(), func(o *kinesis.Options) {
		o.RetryMaxAttempts = 0 // the retryer's own
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.Backoff = noBackoff{}
		})
	})
	in := &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("x")}
	_, err = retrying.PutRecord(ctx, in)
	require.NoError(t, err, "the third attempt goes through")

	_, err = acct.InjectFault(shardlog.Fault{Operation: "PutRecord", Err: shardlog.ErrProvisionedThroughputExceeded})
	require.NoError(t, err)
	_, err = c.PutRecord(ctx, in)
	var throttled *types.ProvisionedThroughputExceededException
	require.ErrorAs(t, err, &throttled)

	_, err = acct.InjectFault(shardlog.Fault{Operation: "PutRecords", Records: []int{0}})
	require.NoError(t, err)
	out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: []types.PutRecordsRequestEntry{
		{PartitionKey: aws.String("k"), Data: []byte("a")},
		{PartitionKey: aws.String("k"), Data: []byte("b")},
	}})
	require.NoError(t, err)
	require.Equal(t, int32(1), *out.FailedRecordCount)
	require.Equal(t, "InternalFailure", *out.Records[0].ErrorCode)
	require.NotNil(t, out.Records[1].SequenceNumber)
}

// TestControlPlaneRatesReachTheSDK: a control-plane call over its rate
// arrives as the SDK's LimitExceededException, and GetShardIterator's as
// ProvisionedThroughputExceededException.
func TestControlPlaneRatesReachTheSDK(t *testing.T) {
	l := shardlog.AWSLimits()
	l.ControlPlaneRates = true
	c, _, _ := setup(t, shardlog.WithLimits(l))
	create(t, c, "s", 1)
	_, err := c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
	require.NoError(t, err)
	_, err = c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
	var le *types.LimitExceededException
	require.ErrorAs(t, err, &le)
	require.Equal(t, "Rate exceeded for account 123456789012.", le.ErrorMessage())

	in := &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest}
	for i := 0; i < 5; i++ {
		_, err := c.GetShardIterator(ctx, in)
		require.NoError(t, err)
	}
	_, err = c.GetShardIterator(ctx, in)
	var pe *types.ProvisionedThroughputExceededException
	require.ErrorAs(t, err, &pe)
}
