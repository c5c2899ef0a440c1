package prom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardlog/shardlog/firehose"
)

// NewDeliveryCollector returns a collector of delivery streams' metrics
// (package firehose), named after Firehose's CloudWatch metrics with the
// label delivery_stream: shardlog_firehose_incoming_records_total and
// …_incoming_bytes_total (IncomingRecords, IncomingBytes);
// shardlog_firehose_delivery_to_s3_records_total, …_bytes_total and
// shardlog_firehose_delivery_to_s3_data_freshness_seconds
// (DeliveryToS3.Records, .Bytes, .DataFreshness; delivery_to_http_endpoint
// for an HTTP endpoint); shardlog_firehose_delivery_objects_total;
// shardlog_firehose_backup_objects_total (objects that went to the backup)
// shardlog_firehose_processing_failed_records_total and
// shardlog_firehose_lost_records_total (records the source removed before
// they were delivered).
func NewDeliveryCollector(streams ...*firehose.DeliveryStream) prometheus.Collector {
	return deliveryCollector(func() []*firehose.DeliveryStream { return streams })
}

// NewDeliveryCollectorFunc is NewDeliveryCollector for delivery streams
// that come and go: list returns those to report at each scrape, as
// firehoseapi.Server.DeliveryStreams does.
func NewDeliveryCollectorFunc(list func() []*firehose.DeliveryStream) prometheus.Collector {
	return deliveryCollector(list)
}

type deliveryCollector func() []*firehose.DeliveryStream

func deliveryDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("shardlog_firehose_"+name, help, []string{"delivery_stream"}, nil)
}

var (
	fhIncomingRecords = deliveryDesc("incoming_records_total", "Records taken by PutRecord and PutRecordBatch (IncomingRecords).")
	fhIncomingBytes   = deliveryDesc("incoming_bytes_total", "Bytes taken by PutRecord and PutRecordBatch (IncomingBytes).")
	fhObjects         = deliveryDesc("delivery_objects_total", "Objects (or HTTP deliveries) the destination took.")
	fhBackups         = deliveryDesc("backup_objects_total", "Objects that went to the backup after the retry duration.")
	fhFailed          = deliveryDesc("processing_failed_records_total", "Records the processor failed, written to the error output.")
	fhLost            = deliveryDesc("lost_records_total", "Records the source removed before they were delivered (retention or size bound).")
	fhRecords         = map[bool]*prometheus.Desc{
		false: deliveryDesc("delivery_to_s3_records_total", "Records delivered (DeliveryToS3.Records)."),
		true:  deliveryDesc("delivery_to_http_endpoint_records_total", "Records delivered (DeliveryToHttpEndpoint.Records)."),
	}
	fhBytes = map[bool]*prometheus.Desc{
		false: deliveryDesc("delivery_to_s3_bytes_total", "Bytes delivered, before compression (DeliveryToS3.Bytes)."),
		true:  deliveryDesc("delivery_to_http_endpoint_bytes_total", "Bytes delivered (DeliveryToHttpEndpoint.Bytes)."),
	}
	fhFreshness = map[bool]*prometheus.Desc{
		false: deliveryDesc("delivery_to_s3_data_freshness_seconds", "Age of the oldest record not yet delivered (DeliveryToS3.DataFreshness)."),
		true:  deliveryDesc("delivery_to_http_endpoint_data_freshness_seconds", "Age of the oldest record not yet delivered (DeliveryToHttpEndpoint.DataFreshness)."),
	}
)

func (deliveryCollector) Describe(chan<- *prometheus.Desc) {}

func (c deliveryCollector) Collect(ch chan<- prometheus.Metric) {
	for _, d := range c() {
		t, name := d.Totals(), d.Name()
		_, byRecord := d.Destination().(firehose.RecordDestination)
		counter := func(desc *prometheus.Desc, v int64) {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), name)
		}
		counter(fhIncomingRecords, t.IncomingRecords)
		counter(fhIncomingBytes, t.IncomingBytes)
		counter(fhObjects, t.Objects)
		counter(fhBackups, t.BackedUp)
		counter(fhFailed, t.ProcessingFailed)
		counter(fhLost, t.Lost)
		counter(fhRecords[byRecord], t.DeliveredRecords)
		counter(fhBytes[byRecord], t.DeliveredBytes)
		ch <- prometheus.MustNewConstMetric(fhFreshness[byRecord], prometheus.GaugeValue, t.DataFreshness.Seconds(), name)
	}
}
