package shardlog_test

import (
	"testing"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

func TestDeaggregate(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	rec := put(t, s, "k", "x")
	plain := shardlog.Record{SequenceNumber: rec.SequenceNumber, ShardID: rec.ShardID, PartitionKey: "k", Data: []byte("plain")}
	require.Equal(t, []shardlog.UserRecord{{Record: plain}}, shardlog.Deaggregate(nil, plain))

	packed := shardlog.AggregateRecords([]shardlog.PutInput{
		{PartitionKey: "a", Data: []byte("1")},
		{PartitionKey: "b", ExplicitHashKey: "99", Data: []byte("2")},
	})
	agg := plain
	agg.Data = packed
	got := shardlog.Deaggregate([]shardlog.UserRecord{{}}, agg) // appends
	require.Len(t, got, 3)
	require.Equal(t, shardlog.UserRecord{Record: shardlog.Record{SequenceNumber: rec.SequenceNumber, ShardID: rec.ShardID, PartitionKey: "b", Data: []byte("2")},
		SubSequenceNumber: 1, ExplicitHashKey: "99", Aggregated: true}, got[2])

	forged := plain
	forged.Data = append(append([]byte{}, packed[:len(packed)-1]...), packed[len(packed)-1]^1) // a wrong MD5
	require.Equal(t, []shardlog.UserRecord{{Record: forged}}, shardlog.Deaggregate(nil, forged), "not an aggregate: the record as it is")
}
