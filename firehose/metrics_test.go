package firehose_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/firehose"
)

// TestMetrics: a delivery stream keeps Firehose's CloudWatch metrics per
// minute: puts' records and bytes, deliveries' records, bytes, success
// and data freshness, summarized per period.
func TestMetrics(t *testing.T) {
	r := newRig(t, firehose.Config{Buffering: firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 60}}, 1)
	r.run()
	put(t, r.d, "ab\n", "cde\n")
	put(t, r.d, "f\n")
	r.await(time.Second, func() bool { return r.d.Totals().DeliveredRecords == 3 })

	require.ElementsMatch(t, []string{"IncomingRecords", "IncomingBytes", "DeliveryToS3.Records", "DeliveryToS3.Bytes",
		"DeliveryToS3.Success", "DeliveryToS3.DataFreshness"}, r.d.MetricNames())
	span := func(name string) []float64 {
		points, ok := r.d.MetricStatistics(name, t0, t0.Add(time.Hour), time.Hour)
		require.True(t, ok, name)
		require.Len(t, points, 1, name)
		p := points[0]
		require.True(t, t0.Equal(p.Timestamp))
		return []float64{p.SampleCount, p.Sum, p.Minimum, p.Maximum}
	}
	require.Equal(t, []float64{2, 3, 1, 2}, span("IncomingRecords"), "a sample per put call")
	require.Equal(t, []float64{2, 9, 2, 7}, span("IncomingBytes"))
	require.Equal(t, []float64{1, 3, 3, 3}, span("DeliveryToS3.Records"))
	require.Equal(t, []float64{1, 9, 9, 9}, span("DeliveryToS3.Bytes"))
	require.Equal(t, []float64{1, 1, 1, 1}, span("DeliveryToS3.Success"))
	fresh := span("DeliveryToS3.DataFreshness")
	require.GreaterOrEqual(t, fresh[3], 60.0, "delivered once the 60 s interval passed")

	_, ok := r.d.MetricStatistics("DeliveryToHttpEndpoint.Records", t0, t0.Add(time.Hour), time.Hour)
	require.False(t, ok, "an S3 delivery stream has no HTTP endpoint metrics")
	points, ok := r.d.MetricStatistics("IncomingRecords", t0.Add(2*time.Hour), t0.Add(3*time.Hour), time.Minute)
	require.True(t, ok)
	require.Empty(t, points, "no samples in another span")
}
