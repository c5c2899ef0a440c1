package kinesisapi

import (
	"context"
	"strconv"

	"github.com/shardlog/shardlog"
)

type getRecordsInput struct {
	ShardIterator string `json:"ShardIterator"`
	Limit         int    `json:"Limit"`
	StreamARN     string `json:"StreamARN"`
}

// getRecordsBody is a GetRecords response, written as encoding/json would
// write {Records, NextShardIterator, MillisBehindLatest, ChildShards}.
type getRecordsBody struct {
	records recordsBody
	out     shardlog.GetRecordsOutput
}

func (g *getRecordsBody) emit(s sink) {
	s.write([]byte(`{"Records":`))
	g.records.emit(s)
	p := g.records.scratch[:0]
	if g.out.NextShardIterator != "" {
		p = append(p, `,"NextShardIterator":`...)
		p = appendJSONString(p, g.out.NextShardIterator)
	}
	p = append(p, `,"MillisBehindLatest":`...)
	p = strconv.AppendInt(p, g.out.MillisBehindLatest, 10)
	s.write(p)
	g.records.scratch = p
	emitChildShards(s, g.out.ChildShards)
	s.write([]byte{'}'})
}

func getRecords(ctx context.Context, a *shardlog.Account, in *getRecordsInput) (any, error) {
	out, err := a.GetRecords(ctx, shardlog.GetRecordsInput(*in))
	if err != nil {
		return nil, err
	}
	return &getRecordsBody{records: newRecordsBody(out.Records, out.EncryptionType), out: out}, nil
}
