// Package firehoseapi serves Amazon Data Firehose's API (JSON 1.1,
// X-Amz-Target Firehose_20150804.<Op>) over a shardlog.Account, so that
// `aws firehose …`, boto3's firehose client and the SDKs work unmodified
// against shardlogd, and their delivery streams really deliver: each one
// is a firehose.DeliveryStream run by the Server.
//
// Served: CreateDeliveryStream (DirectPut and KinesisStreamAsSource;
// ExtendedS3 or S3 destinations, written to a folder per bucket under
// Config.Buckets or where Config.Bucket says, HttpEndpoint destinations
// with their S3 backup, and Redshift destinations where Config.Redshift
// makes them, as module postgres's Clusters does),
// DescribeDeliveryStream, ListDeliveryStreams, DeleteDeliveryStream,
// UpdateDestination, PutRecord, PutRecordBatch, TagDeliveryStream,
// UntagDeliveryStream, ListTagsForDeliveryStream and
// Start/StopDeliveryStreamEncryption. Destinations shardlog cannot deliver
// to (OpenSearch, Splunk, Snowflake, Iceberg; Redshift without
// Config.Redshift), Lambda functions
// without an invocation URL (Config.Lambdas) and format conversion are
// refused with InvalidArgumentException, so that a configuration is never
// accepted and then silently ignored. Dynamic partitioning works, with
// keys from a MetadataExtraction processor's query (the part of jq that
// firehose.Partitioning reads), as does AppendDelimiterToRecord.
//
// A direct-put delivery stream keeps the records it takes in a stream of
// its own in a second account under Config.Dir (in memory without one),
// so that on disk they outlive a crash until delivered; the delivery
// streams' definitions are kept there too (deliverystreams.json, replaced
// atomically) and started again by New. A KinesisStreamAsSource one reads
// its stream of Config.Kinesis from its creation on, through the consumer
// group firehose-<name>-<creation in milliseconds>.
//
// Requests are checked against the Firehose model's constraints (lengths,
// ranges, patterns, enums, required members; model_gen.go, written by
// internal/tools/modelgen from the model) and refused in AWS's words with
// ValidationException, every violation listed, up to ten. With access control on
// (shardlog.WithAccessControl on Config.Kinesis), requests are signed with
// Signature Version 4 for the service "firehose", and the caller needs
// firehose:<Operation> on the delivery stream's ARN,
// arn:aws:firehose:<region>:<account>:deliverystream/<name>.
package firehoseapi
