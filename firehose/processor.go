package firehose

import (
	"context"
	"time"
)

// Processor transforms records as a Firehose Lambda does: it gets records
// and returns one result for each, by RecordID. A result Ok carries the
// record's new data, Dropped drops it (both succeed), ProcessingFailed
// sends the original to the error output. A missing or repeated RecordID
// fails the record; an error fails the call, which is made again up to
// three times before its records go to the error output. Records' Data
// are the Processor's own to change.
type Processor func(ctx context.Context, records []ProcessorRecord) ([]ProcessorResult, error)

// ProcessorRecord is a record as a Firehose Lambda gets it.
type ProcessorRecord struct {
	RecordID                    string
	ApproximateArrivalTimestamp time.Time
	Data                        []byte
	// The Kinesis record's metadata (kinesisRecordMetadata).
	ShardID           string
	PartitionKey      string
	SequenceNumber    string
	SubsequenceNumber int64
}

// ProcessorResult is a Processor's answer for one record.
type ProcessorResult struct {
	RecordID string
	Result   Result
	Data     []byte
	// PartitionKeys are the record's keys for dynamic partitioning
	// (Lambda's metadata.partitionKeys), for the Prefix's
	// !{partitionKeyFromLambda:<key>}.
	PartitionKeys map[string]string
}

// Result is a record's outcome in a Processor.
type Result string

// The results.
const (
	Ok                     Result = "Ok"
	Dropped                Result = "Dropped"
	ProcessingFailedResult Result = "ProcessingFailed"
)

// processorRetries is how many times a failed call is made again
// (Firehose's NumberOfRetries default).
const processorRetries = 3

// failure is a record that goes to the error output, in Firehose's
// processing-failed format.
type failure struct {
	AttemptsMade           int    `json:"attemptsMade"`
	ArrivalTimestamp       int64  `json:"arrivalTimestamp"`
	ErrorCode              string `json:"errorCode"`
	ErrorMessage           string `json:"errorMessage"`
	AttemptEndingTimestamp int64  `json:"attemptEndingTimestamp"`
	RawData                []byte `json:"rawData"` // base64, as encoding/json writes []byte
	LambdaARN              string `json:"lambdaArn,omitempty"`
}
