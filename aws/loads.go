package aws

import (
	"context"
	"strconv"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/shardlog/shardlog"
)

// ScalableStream is a stream whose shard loads are read from CloudWatch, so
// that package autoscale can scale a stream on Amazon Kinesis as it scales
// an embedded one.
type ScalableStream struct {
	*Stream
	cw    *cloudwatch.Client
	clock shardlog.Clock
}

// Scalable returns s with its loads read through cw: the shard-level
// IncomingBytes and IncomingRecords that Kinesis publishes once enhanced
// monitoring is on for them (EnableEnhancedMonitoring), summed over the
// last full minute of clock (nil: the wall clock), as shares of Kinesis's
// shard limits (1 MiB and 1 000 records a second). Kinesis publishes
// nothing of partition keys, so HotKeys and SplitKey stay empty, and the
// autoscaler splits at midpoints; reads are not measured.
func Scalable(s *Stream, cw *cloudwatch.Client, clock shardlog.Clock) *ScalableStream {
	if clock == nil {
		clock = shardlog.SystemClock()
	}
	return &ScalableStream{Stream: s, cw: cw, clock: clock}
}

// maxQueries is the most metric queries one GetMetricData call takes.
const maxQueries = 500

// loadMetrics are the shard-level metrics a load is read from, with the
// first letter of their queries' IDs.
var loadMetrics = []struct{ id, name string }{{"b", "IncomingBytes"}, {"r", "IncomingRecords"}}

// ShardLoads returns the load of each open shard in the last full minute.
func (s *ScalableStream) ShardLoads(ctx context.Context) ([]shardlog.ShardLoad, error) {
	var shards []shardlog.Shard
	for in := (shardlog.ListShardsInput{ShardFilter: shardlog.ShardFilter{Type: shardlog.FilterAtLatest}}); ; {
		page, err := s.ListShards(ctx, in)
		if err != nil {
			return nil, err
		}
		shards = append(shards, page.Shards...)
		if page.NextToken == "" {
			break
		}
		in = shardlog.ListShardsInput{NextToken: page.NextToken}
	}
	minute := s.clock.Now().Truncate(time.Minute).Add(-time.Minute)
	loads := make([]shardlog.ShardLoad, len(shards))
	for i, sh := range shards {
		loads[i] = shardlog.ShardLoad{ShardID: sh.ShardID, HashKeyRange: sh.HashKeyRange, Minute: minute}
	}
	for from := 0; from < len(shards); from += maxQueries / 2 {
		batch := loads[from:min(len(loads), from+maxQueries/2)]
		in := &cloudwatch.GetMetricDataInput{StartTime: sdk.Time(minute), EndTime: sdk.Time(minute.Add(time.Minute))}
		for i, l := range batch {
			for _, m := range loadMetrics {
				in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{
					Id: sdk.String(m.id + strconv.Itoa(i)), // b0, r0, b1, …
					MetricStat: &cwtypes.MetricStat{Period: sdk.Int32(60), Stat: sdk.String("Sum"), Metric: &cwtypes.Metric{
						Namespace: sdk.String("AWS/Kinesis"), MetricName: sdk.String(m.name),
						Dimensions: []cwtypes.Dimension{{Name: sdk.String("StreamName"), Value: sdk.String(s.name)}, {Name: sdk.String("ShardId"), Value: sdk.String(l.ShardID)}},
					}},
				})
			}
		}
		for p := cloudwatch.NewGetMetricDataPaginator(s.cw, in); p.HasMorePages(); {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, r := range out.MetricDataResults {
				id := sdk.ToString(r.Id)
				i, err := strconv.Atoi(id[min(1, len(id)):])
				if err != nil || i < 0 || i >= len(batch) || len(r.Values) == 0 {
					continue
				}
				switch id[0] {
				case 'b':
					batch[i].WriteBytes += int64(r.Values[0])
				case 'r':
					batch[i].WriteRecords += int64(r.Values[0])
				}
			}
		}
	}
	limits := shardlog.AWSLimits()
	for i := range loads {
		l := &loads[i]
		l.WriteUtilization = max(float64(l.WriteBytes)/float64(60*limits.WriteBytesPerSecond), float64(l.WriteRecords)/float64(60*limits.WriteRecordsPerSecond))
	}
	return loads, nil
}
