package cloudwatchapi_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/cloudwatchapi"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	ctx = context.Background()
	t0  = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
)

// served is an account served over HTTP.
type served struct {
	acct *shardlog.Account
	url  string
}

// serve starts an account on clk and serves it.
func serve(t *testing.T, clk *shardlog.ManualClock, opts ...cloudwatchapi.Option) served {
	t.Helper()
	acct, err := shardlog.NewAccount(shardlog.WithClock(clk), shardlog.WithoutLimits(), shardlog.WithAccountID("123456789012"))
	require.NoError(t, err)
	srv := httptest.NewServer(cloudwatchapi.NewHandler(acct, opts...))
	t.Cleanup(func() {
		srv.Close()
		acct.Close()
	})
	return served{acct, srv.URL}
}

// traffic writes, per minute, records of the given sizes (data and key
// together) to a new stream "orders", and leaves the clock at the last
// minute.
func traffic(t *testing.T, acct *shardlog.Account, clk *shardlog.ManualClock, minutes ...[]int) {
	t.Helper()
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 1})
	require.NoError(t, err)
	for i, sizes := range minutes {
		if i > 0 {
			clk.Advance(time.Minute)
		}
		for _, n := range sizes {
			_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: make([]byte, n-1)})
			require.NoError(t, err)
		}
	}
}

func sdk(url string, creds aws.CredentialsProvider) *cloudwatch.Client {
	return cloudwatch.New(cloudwatch.Options{
		BaseEndpoint:     aws.String(url),
		Region:           "us-east-1",
		Credentials:      creds,
		RetryMaxAttempts: 1,
	})
}

var anyKey = credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")

var stream = []types.Dimension{{Name: aws.String("StreamName"), Value: aws.String("orders")}}

// TestGoSDK: the Go SDK (RPC v2 CBOR) reads Kinesis's metrics.
func TestGoSDK(t *testing.T) {
	clk := shardlog.NewManualClock(t0)
	s := serve(t, clk, cloudwatchapi.WithUnsignedRequests())
	traffic(t, s.acct, clk, []int{10, 30}, []int{20}, []int{5, 5, 5})
	c := sdk(s.url, anyKey)

	stats, err := c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("AWS/Kinesis"), MetricName: aws.String("PutRecord.Bytes"), Dimensions: stream,
		StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(time.Hour)), Period: aws.Int32(60),
		Statistics: []types.Statistic{types.StatisticSum, types.StatisticMaximum},
	})
	require.NoError(t, err)
	assert.Equal(t, "PutRecord.Bytes", *stats.Label)
	require.Len(t, stats.Datapoints, 3)
	for i, want := range []struct{ sum, max float64 }{{40, 30}, {20, 20}, {15, 5}} {
		dp := stats.Datapoints[i]
		assert.True(t, t0.Add(time.Duration(i)*time.Minute).Equal(*dp.Timestamp), "%v", dp.Timestamp)
		assert.Equal(t, want.sum, *dp.Sum)
		assert.Equal(t, want.max, *dp.Maximum)
		assert.Nil(t, dp.Average, "only the statistics asked for")
		assert.Equal(t, types.StandardUnitBytes, dp.Unit)
	}

	pct, err := c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("AWS/Kinesis"), MetricName: aws.String("PutRecord.Bytes"), Dimensions: stream,
		StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(time.Hour)), Period: aws.Int32(60),
		ExtendedStatistics: []string{"p99"},
	})
	require.NoError(t, err)
	require.Len(t, pct.Datapoints, 3)
	assert.Nil(t, pct.Datapoints[0].ExtendedStatistics, "samples 10 and 30: no percentile from a statistic set")
	assert.Equal(t, map[string]float64{"p99": 5}, pct.Datapoints[2].ExtendedStatistics)

	data, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(time.Hour)),
		MetricDataQueries: []types.MetricDataQuery{
			{Id: aws.String("bytes"), MetricStat: &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("AWS/Kinesis"),
				MetricName: aws.String("IncomingRecords"), Dimensions: stream}, Period: aws.Int32(60), Stat: aws.String("Sum")}},
			{Id: aws.String("cpu"), Label: aws.String("elsewhere"), MetricStat: &types.MetricStat{Metric: &types.Metric{
				Namespace: aws.String("AWS/EC2"), MetricName: aws.String("CPUUtilization")}, Period: aws.Int32(60), Stat: aws.String("Average")}},
		},
	})
	require.NoError(t, err)
	require.Len(t, data.MetricDataResults, 2)
	r := data.MetricDataResults[0]
	assert.Equal(t, "bytes", *r.Id)
	assert.Equal(t, "IncomingRecords", *r.Label)
	assert.Equal(t, types.StatusCodeComplete, r.StatusCode)
	assert.Equal(t, []float64{3, 1, 2}, r.Values, "newest first")
	require.Len(t, r.Timestamps, 3)
	assert.True(t, t0.Add(2*time.Minute).Equal(r.Timestamps[0]))
	assert.Equal(t, "elsewhere", *data.MetricDataResults[1].Label)
	assert.Empty(t, data.MetricDataResults[1].Values)

	list, err := c.ListMetrics(ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/Kinesis"), MetricName: aws.String("IncomingBytes")})
	require.NoError(t, err)
	require.Len(t, list.Metrics, 1)
	assert.Equal(t, stream, list.Metrics[0].Dimensions)
	assert.Nil(t, list.NextToken)
}

// TestGoSDKErrors: refusals reach the SDK with CloudWatch's codes.
func TestGoSDKErrors(t *testing.T) {
	clk := shardlog.NewManualClock(t0)
	s := serve(t, clk, cloudwatchapi.WithUnsignedRequests())
	c := sdk(s.url, anyKey)
	base := func() *cloudwatch.GetMetricStatisticsInput {
		return &cloudwatch.GetMetricStatisticsInput{
			Namespace: aws.String("AWS/Kinesis"), MetricName: aws.String("IncomingBytes"), Dimensions: stream,
			StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(time.Hour)), Period: aws.Int32(60),
			Statistics: []types.Statistic{types.StatisticSum},
		}
	}
	for name, tc := range map[string]struct {
		change func(*cloudwatch.GetMetricStatisticsInput)
		code   string
		msg    string
	}{
		"both kinds of statistics": {func(in *cloudwatch.GetMetricStatisticsInput) { in.ExtendedStatistics = []string{"p50"} },
			"InvalidParameterCombination", "Must specify either Statistics or ExtendedStatistics, but not both."},
		"too many datapoints": {func(in *cloudwatch.GetMetricStatisticsInput) { in.EndTime = aws.Time(t0.Add(25 * time.Hour)) },
			"InvalidParameterCombination", "You have requested up to 1,500 datapoints, which exceeds the limit of 1,440."},
		"period": {func(in *cloudwatch.GetMetricStatisticsInput) { in.Period = aws.Int32(90) },
			"InvalidParameterValue", "The parameter Period must be 1, 5, 10, 20, 30 or a multiple of 60."},
		"end first": {func(in *cloudwatch.GetMetricStatisticsInput) { in.EndTime = aws.Time(t0) },
			"InvalidParameterValue", "The parameter StartTime must be less than the parameter EndTime."},
		"statistic": {func(in *cloudwatch.GetMetricStatisticsInput) { in.Statistics = []types.Statistic{"Median"} },
			"InvalidParameterValue", "The parameter Statistics.member.1 must be a value in the set"},
		"percentile": {func(in *cloudwatch.GetMetricStatisticsInput) {
			in.Statistics, in.ExtendedStatistics = nil, []string{"p101"}
		}, "InvalidParameterValue", "ExtendedStatistics.member.1"},
		"blank dimension": {func(in *cloudwatch.GetMetricStatisticsInput) {
			in.Dimensions = []types.Dimension{{Name: aws.String("StreamName"), Value: aws.String(" ")}}
		}, "InvalidParameterValue", "Dimensions.member.1.Value must contain at least one non-whitespace character."},
	} {
		in := base()
		tc.change(in)
		_, err := c.GetMetricStatistics(ctx, in)
		var ae smithy.APIError
		require.True(t, errors.As(err, &ae), "%s: %v", name, err)
		assert.Equal(t, tc.code, ae.ErrorCode(), name)
		assert.Contains(t, ae.ErrorMessage(), tc.msg, name)
	}

	_, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(time.Hour)),
		NextToken: aws.String("forged"), MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("m"), Expression: aws.String("m1*2")}}})
	var ae smithy.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "InvalidParameterValue", ae.ErrorCode(), "expressions are refused before the token is read")
	assert.Contains(t, ae.ErrorMessage(), "not supported")
}

// TestGetMetricDataPages: MaxDatapoints pages through the values, in the
// order ScanBy asks, with a NextToken until the last page.
func TestGetMetricDataPages(t *testing.T) {
	clk := shardlog.NewManualClock(t0)
	s := serve(t, clk, cloudwatchapi.WithUnsignedRequests())
	traffic(t, s.acct, clk, []int{1}, []int{2, 2}, []int{3, 3, 3}, []int{4, 4, 4, 4})
	c := sdk(s.url, anyKey)
	in := &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(time.Hour)), MaxDatapoints: aws.Int32(3),
		ScanBy: types.ScanByTimestampAscending,
		MetricDataQueries: []types.MetricDataQuery{
			{Id: aws.String("a"), MetricStat: &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("AWS/Kinesis"),
				MetricName: aws.String("IncomingRecords"), Dimensions: stream}, Period: aws.Int32(60), Stat: aws.String("Sum")}},
			{Id: aws.String("b"), MetricStat: &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("AWS/Kinesis"),
				MetricName: aws.String("PutRecord.Bytes"), Dimensions: stream}, Period: aws.Int32(60), Stat: aws.String("Maximum")}},
		},
	}
	var got [2][]float64
	pages := 0
	for p := cloudwatch.NewGetMetricDataPaginator(c, in); p.HasMorePages(); pages++ {
		out, err := p.NextPage(ctx)
		require.NoError(t, err)
		for i, r := range out.MetricDataResults {
			got[i] = append(got[i], r.Values...)
		}
	}
	assert.Equal(t, 3, pages)
	assert.Equal(t, [2][]float64{{1, 2, 3, 4}, {1, 2, 3, 4}}, got)
}

// TestSignedRequests: with access control on, a request is signed for
// "monitoring" by a key of the account, and its principal needs
// CloudWatch's actions.
func TestSignedRequests(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Minute)
	clk := shardlog.NewManualClock(now)
	acct, err := shardlog.NewAccount(shardlog.WithClock(clk), shardlog.WithAccountID("123456789012"), shardlog.WithAccessControl())
	require.NoError(t, err)
	srv := httptest.NewServer(cloudwatchapi.NewHandler(acct))
	t.Cleanup(func() {
		srv.Close()
		acct.Close()
	})
	viewer := "arn:aws:iam::123456789012:user/viewer"
	require.NoError(t, acct.PutPrincipal(viewer, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"cloudwatch:ListMetrics","Resource":"*"}]}`))
	require.NoError(t, acct.PutAccessKey("AKIAVIEWER", "viewer-secret", viewer))

	c := sdk(srv.URL, credentials.NewStaticCredentialsProvider("AKIAVIEWER", "viewer-secret", ""))
	_, err = c.ListMetrics(ctx, &cloudwatch.ListMetricsInput{})
	require.NoError(t, err)
	_, err = c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("AWS/Kinesis"), MetricName: aws.String("IncomingBytes"), Dimensions: stream,
		StartTime: aws.Time(now), EndTime: aws.Time(now.Add(time.Hour)), Period: aws.Int32(60),
		Statistics: []types.Statistic{types.StatisticSum},
	})
	var ae smithy.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "AccessDenied", ae.ErrorCode())
	assert.Contains(t, ae.ErrorMessage(), "is not authorized to perform: cloudwatch:GetMetricStatistics")

	_, err = sdk(srv.URL, credentials.NewStaticCredentialsProvider("AKIAVIEWER", "wrong", "")).ListMetrics(ctx, &cloudwatch.ListMetricsInput{})
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "SignatureDoesNotMatch", ae.ErrorCode())
	_, err = sdk(srv.URL, credentials.NewStaticCredentialsProvider("AKIAOTHER", "x", "")).ListMetrics(ctx, &cloudwatch.ListMetricsInput{})
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "InvalidClientTokenId", ae.ErrorCode())
	_, err = sdk(srv.URL, aws.AnonymousCredentials{}).ListMetrics(ctx, &cloudwatch.ListMetricsInput{})
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "MissingAuthenticationToken", ae.ErrorCode())
}
