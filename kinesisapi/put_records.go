package kinesisapi

import (
	"context"
	"sync"

	"github.com/shardlog/shardlog"
)

// putRecordsInput is the shape encoding/json decodes, when the fast path
// declines a body.
type putRecordsInput struct {
	streamRef
	Records []putRecordsEntryInput `json:"Records"`
}

type putRecordsEntryInput struct {
	Data            []byte `json:"Data"`
	PartitionKey    string `json:"PartitionKey"`
	ExplicitHashKey string `json:"ExplicitHashKey"`
}

// putRecordsState is what one PutRecords call works in, pooled: a warm
// call allocates only its response.
type putRecordsState struct {
	ref    streamRef
	batch  []shardlog.PutInput
	data   []byte // the records' decoded data (the core copies it)
	result shardlog.PutBatchOutput
}

// maxPooledData is the largest data buffer a pooled state keeps: a typical
// batch's, not the 5 MiB of the largest.
const maxPooledData = 1 << 20

var putRecordsPool = sync.Pool{New: func() any { return new(putRecordsState) }}

// putRecords decodes with the fast path when it can, puts, and answers
// with JSON encoded straight from the result.
func putRecords(ctx context.Context, a *shardlog.Account, body []byte, sh *shape) (any, error) {
	st := putRecordsPool.Get().(*putRecordsState)
	defer func() {
		clear(st.batch) // drop the views of this request's body
		st.batch, st.ref = st.batch[:0], streamRef{}
		if cap(st.data) > maxPooledData {
			st.data = nil
		}
		putRecordsPool.Put(st)
	}()
	if fastPutRecords(body, &st.ref, &st.batch, &st.data) {
		if !putRecordsValid(&st.ref, st.batch) {
			if err := validateBody(body, sh); err != nil {
				return nil, err
			}
		}
	} else {
		var in putRecordsInput
		if err := decodeValid(body, &in, sh); err != nil {
			return nil, err
		}
		st.ref, st.batch = in.streamRef, st.batch[:0]
		for _, r := range in.Records {
			st.batch = append(st.batch, shardlog.PutInput{PartitionKey: r.PartitionKey, Data: r.Data, ExplicitHashKey: r.ExplicitHashKey})
		}
	}
	noteStream(ctx, &st.ref)
	s, err := st.ref.stream(ctx, a)
	if err != nil {
		return nil, err
	}
	if err := s.PutBatchInto(ctx, st.batch, &st.result); err != nil {
		return nil, err
	}
	return rawJSON(appendPutRecordsOutput(make([]byte, 0, 128*len(st.result.Records)+64), &st.result)), nil
}

// putRecordsValid reports whether what the fast path decoded meets the
// model's constraints, so that well-formed batches skip the full check.
// The fast path declines empty names and hash keys, so an empty string
// here means an absent member.
func putRecordsValid(ref *streamRef, recs []shardlog.PutInput) bool {
	if ref.StreamName != "" && !shapeStreamName.StringOK(ref.StreamName) ||
		ref.StreamARN != "" && !shapeStreamARN.StringOK(ref.StreamARN) ||
		int64(len(recs)) < shapePutRecordsRequestEntryList.Min {
		return false
	}
	for i := range recs {
		r := &recs[i]
		if r.Data == nil || int64(len(r.Data)) > shapeData.Max || !shapePartitionKey.StringOK(r.PartitionKey) ||
			r.ExplicitHashKey != "" && !shapeHashKey.StringOK(r.ExplicitHashKey) {
			return false
		}
	}
	return true
}
