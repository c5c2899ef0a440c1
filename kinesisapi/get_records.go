package kinesisapi

import (
	"context"
	"strconv"
	"sync"

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
	scratch []byte // kept across uses
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

var getRecordsPool = sync.Pool{New: func() any { return new(getRecordsBody) }}

func getRecords(ctx context.Context, a *shardlog.Account, in *getRecordsInput) (any, error) {
	g := getRecordsPool.Get().(*getRecordsBody)
	if err := a.GetRecordsInto(ctx, shardlog.GetRecordsInput(*in), &g.out); err != nil {
		g.release()
		return nil, err
	}
	g.records = newRecordsBody(g.out.Records, g.out.EncryptionType)
	g.records.scratch = g.scratch
	return g, nil
}

// release returns g to the pool once its response is written, without the
// records it pointed at (they would keep storage alive).
func (g *getRecordsBody) release() {
	clear(g.out.Records)
	g.scratch = g.records.scratch[:0]
	g.out = shardlog.GetRecordsOutput{Records: g.out.Records[:0]}
	g.records = recordsBody{}
	getRecordsPool.Put(g)
}
