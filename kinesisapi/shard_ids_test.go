package kinesisapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/kinesisapi"
)

// TestShardIDsAsAWSReadsThem: AWS reads the digits after the first '-' (or
// a bare number) as the shard's index, so short forms name shards, and
// answers IDs that name no shard, and shards of missing streams, in its own
// words. Cases and messages are those of responses recorded against AWS.
func TestShardIDsAsAWSReadsThem(t *testing.T) {
	acct := newAccount(t, shardlog.WithAccountID("123456789012"))
	h := kinesisapi.NewHandler(acct, kinesisapi.WithUnsignedRequests())
	for _, id := range []string{"shardId-0", "0", "x-0", "-000", "shardId-000000000000"} {
		rec := call(h, "GetShardIterator", `{"StreamName":"s","ShardId":"`+id+`","ShardIteratorType":"LATEST"}`)
		require.Equal(t, http.StatusOK, rec.Code, id+": "+rec.Body.String())
	}
	rec := call(h, "SplitShard", `{"StreamName":"s","ShardToSplit":"shardId-0","NewStartingHashKey":"1000"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	rec = call(h, "MergeShards", `{"StreamName":"s","ShardToMerge":"1","AdjacentShardToMerge":"a-2"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	for _, tc := range []struct{ op, body, message string }{
		{"GetShardIterator", `{"StreamName":"nope","ShardId":"2147483648","ShardIteratorType":"LATEST"}`,
			"Could not find shard 2147483648 in stream nope under account 123456789012."},
		{"GetShardIterator", `{"StreamName":"nope","ShardId":"ABKLFD8","ShardIteratorType":"LATEST"}`,
			"Could not find shard ABKLFD8 in stream nope under account 123456789012."},
		{"GetShardIterator", `{"StreamName":"nope","ShardId":"2.14E4","ShardIteratorType":"LATEST"}`,
			"Could not find shard 2.14E4 in stream nope under account 123456789012."},
		{"GetShardIterator", `{"StreamName":"nope","ShardId":"a-00002147483647","ShardIteratorType":"LATEST"}`,
			"Shard shardId-002147483647 in stream nope under account 123456789012 does not exist"},
		{"GetShardIterator", `{"StreamName":"s","ShardId":"shardId-5","ShardIteratorType":"LATEST"}`,
			"Shard shardId-000000000005 in stream s under account 123456789012 does not exist"},
		{"GetShardIterator", `{"StreamName":"s","ShardId":"shardId-002147483648","ShardIteratorType":"LATEST"}`,
			"Could not find shard shardId-002147483648 in stream s under account 123456789012."},
		{"MergeShards", `{"StreamName":"nope","ShardToMerge":"2147483648","AdjacentShardToMerge":"x-0"}`,
			"Could not find shard 2147483648 in stream nope under account 123456789012."},
		{"MergeShards", `{"StreamName":"nope","ShardToMerge":"x-0","AdjacentShardToMerge":"ABKLFD8"}`,
			"Could not find shard ABKLFD8 in stream nope under account 123456789012."},
		{"MergeShards", `{"StreamName":"nope","ShardToMerge":"a-00002147483647","AdjacentShardToMerge":"x-0"}`,
			"Stream nope under account 123456789012 not found."},
		{"MergeShards", `{"StreamName":"s","ShardToMerge":"shardId-5","AdjacentShardToMerge":"x-0"}`,
			"Could not find shard shardId-000000000005 in stream s under account 123456789012."},
		{"SplitShard", `{"StreamName":"nope","ShardToSplit":"ABKLFD8","NewStartingHashKey":"5"}`,
			"Could not find shard ABKLFD8 in stream nope under account 123456789012."},
		{"SplitShard", `{"StreamName":"nope","ShardToSplit":"shardId-0","NewStartingHashKey":"5"}`,
			"Stream nope under account 123456789012 not found."},
	} {
		code, msg := errorOf(t, h, tc.op, tc.body)
		require.Equal(t, "ResourceNotFoundException", code, tc.body)
		require.Equal(t, tc.message, msg, tc.body)
	}
}
