package firehose

import (
	"context"
	"errors"
	"strconv"

	"github.com/shardlog/shardlog"
)

// Firehose's direct-put limits.
const (
	MaxRecordBytes = 1_024_000 // a record's data, before base64
	MaxBatchCount  = 500
	MaxBatchBytes  = 4 << 20
)

// PutRecordOutput is PutRecord's answer.
type PutRecordOutput struct {
	RecordID  string
	Encrypted bool
}

// PutRecordBatchOutput is PutRecordBatch's answer: one response a record,
// in the request's order.
type PutRecordBatchOutput struct {
	FailedPutCount   int
	Encrypted        bool
	RequestResponses []PutRecordBatchResponseEntry
}

// PutRecordBatchResponseEntry is one record's outcome: its RecordID, or
// an ErrorCode (ServiceUnavailableException or InternalFailure) and
// message; send those again.
type PutRecordBatchResponseEntry struct {
	RecordID     string
	ErrorCode    string
	ErrorMessage string
}

// PutRecord takes one record into a direct-put delivery stream: it is in
// the delivery stream's own stream when PutRecord returns, and delivered
// from there. Firehose adds no delimiter: add your own.
//
// Errors: ErrValidation for data over 1 024 000 bytes; ErrInvalidArgument
// on a delivery stream that reads a Kinesis stream; ErrServiceUnavailable
// when the stream is throttled; the stream's errors otherwise.
func (d *DeliveryStream) PutRecord(ctx context.Context, data []byte) (PutRecordOutput, error) {
	if err := d.checkPut(); err != nil {
		return PutRecordOutput{}, err
	}
	if len(data) > MaxRecordBytes {
		return PutRecordOutput{}, tooLong("record.data", MaxRecordBytes)
	}
	out, err := d.cfg.Source.Put(ctx, shardlog.PutInput{PartitionKey: d.key(), Data: data})
	if err != nil {
		return PutRecordOutput{}, putError(err)
	}
	d.totals.incoming.Add(1)
	d.totals.incomingBytes.Add(int64(len(data)))
	now := d.cfg.Clock.Now()
	d.note(now, mIncomingRecords, 1, float64(len(data)))
	return PutRecordOutput{RecordID: recordID(out.ShardID, out.SequenceNumber)}, nil
}

// PutRecordBatch takes up to 500 records and 4 MiB into a direct-put
// delivery stream. Records fail one by one (FailedPutCount); the others
// are taken.
//
// Errors: ErrValidation for no records, more than 500 or one over
// 1 024 000 bytes; ErrInvalidArgument over 4 MiB in all, or on a delivery
// stream that reads a Kinesis stream.
func (d *DeliveryStream) PutRecordBatch(ctx context.Context, records [][]byte) (PutRecordBatchOutput, error) {
	if err := d.checkPut(); err != nil {
		return PutRecordBatchOutput{}, err
	}
	switch {
	case len(records) == 0:
		return PutRecordBatchOutput{}, &shardlog.Error{Code: shardlog.ErrValidation.Code,
			Message: "1 validation error detected: Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1"}
	case len(records) > MaxBatchCount:
		return PutRecordBatchOutput{}, tooLong("records", MaxBatchCount)
	}
	total := 0
	in := make([]shardlog.PutInput, len(records))
	for i, r := range records {
		if len(r) > MaxRecordBytes {
			return PutRecordBatchOutput{}, tooLong("records."+strconv.Itoa(i+1)+".member.data", MaxRecordBytes)
		}
		total += len(r)
		in[i] = shardlog.PutInput{PartitionKey: d.key(), Data: r}
	}
	if total > MaxBatchBytes {
		return PutRecordBatchOutput{}, invalid("Records size exceeds 4 MiB limit")
	}
	res, err := d.cfg.Source.PutBatch(ctx, in)
	if err != nil {
		return PutRecordBatchOutput{}, putError(err)
	}
	out := PutRecordBatchOutput{RequestResponses: make([]PutRecordBatchResponseEntry, len(res.Records))}
	taken, takenBytes := 0, 0
	for i, r := range res.Records {
		if r.ErrorCode != "" {
			out.FailedPutCount++
			code, msg := ErrServiceUnavailable.Code, "Slow down."
			if r.ErrorCode == "InternalFailure" {
				code, msg = r.ErrorCode, r.ErrorMessage
			}
			out.RequestResponses[i] = PutRecordBatchResponseEntry{ErrorCode: code, ErrorMessage: msg}
			continue
		}
		d.totals.incoming.Add(1)
		d.totals.incomingBytes.Add(int64(len(records[i])))
		taken, takenBytes = taken+1, takenBytes+len(records[i])
		out.RequestResponses[i] = PutRecordBatchResponseEntry{RecordID: recordID(r.ShardID, r.SequenceNumber)}
	}
	now := d.cfg.Clock.Now()
	d.note(now, mIncomingRecords, float64(taken), float64(takenBytes))
	return out, nil
}

func (d *DeliveryStream) checkPut() error {
	if !d.cfg.DirectPut {
		return invalid("%s", notDirectPut)
	}
	return nil
}

// key is a direct-put record's partition key: a counter, so that the
// records spread evenly over the shards.
func (d *DeliveryStream) key() string {
	d.keysMu.Lock()
	defer d.keysMu.Unlock()
	d.keys++
	return strconv.FormatUint(d.keys, 36)
}

func recordID(shardID string, seq shardlog.SequenceNumber) string {
	return shardID + ":" + seq.String()
}

func tooLong(field string, n int) error {
	return &shardlog.Error{Code: shardlog.ErrValidation.Code,
		Message: "1 validation error detected: Value at '" + field + "' failed to satisfy constraint: Member must have length less than or equal to " + strconv.Itoa(n)}
}

// putError maps a stream's error to Firehose's: throttling is
// ServiceUnavailableException.
func putError(err error) error {
	if errors.Is(err, shardlog.ErrProvisionedThroughputExceeded) {
		return &shardlog.Error{Code: ErrServiceUnavailable.Code, Message: "Slow down."}
	}
	return err
}
