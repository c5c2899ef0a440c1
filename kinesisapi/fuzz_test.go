package kinesisapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/kinesisapi"
)

// FuzzRequest sends arbitrary bodies to every operation: the handler must
// answer (never panic) with a status the protocol allows.
func FuzzRequest(f *testing.F) {
	// A small shard limit keeps fuzzed CreateStream and UpdateShardCount
	// calls cheap.
	acct, err := shardlog.NewAccount(shardlog.WithoutLimits(), shardlog.WithShardLimit(50))
	if err != nil {
		f.Fatal(err)
	}
	defer acct.Close()
	if _, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: 2}); err != nil {
		f.Fatal(err)
	}
	h := kinesisapi.NewHandler(acct, kinesisapi.WithUnsignedRequests())
	for _, seed := range []struct{ op, body string }{
		{"PutRecord", `{"StreamName":"s","PartitionKey":"k","Data":"aGk="}`},
		{"PutRecords", `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":"aGk="}]}`},
		{"GetShardIterator", `{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1.5}`},
		{"GetRecords", `{"ShardIterator":"AAAA","Limit":5}`},
		{"ListShards", `{"StreamName":"s","ShardFilter":{"Type":"AT_TIMESTAMP","Timestamp":0}}`},
		{"CreateStream", `{"StreamName":"x","ShardCount":1,"Tags":{"a":"b"}}`},
		{"SplitShard", `{"StreamName":"s","ShardToSplit":"shardId-000000000001","NewStartingHashKey":"2"}`},
		{"RegisterStreamConsumer", `{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","ConsumerName":"c"}`},
		{"ListStreams", `[]`},
	} {
		f.Add(seed.op, seed.body)
	}
	f.Fuzz(func(t *testing.T, op, body string) {
		if strings.TrimSpace(op) == "SubscribeToShard" {
			t.Skip("a subscription streams for minutes; the SDK tests cover it")
		}
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 413:
		default:
			t.Fatalf("%s %q: status %d: %s", op, body, rec.Code, rec.Body)
		}
		if rec.Code != 200 && rec.Header().Get("X-Amzn-ErrorType") == "" {
			t.Fatalf("%s: error without X-Amzn-ErrorType", op)
		}
		for _, goism := range []string{"Go value", "Go struct", "kinesisapi.", "json: ", "[]uint8", "struct {", "strconv."} {
			if rec.Code != 200 && strings.Contains(rec.Body.String(), goism) {
				t.Fatalf("%s %q: the answer shows Go's words: %s", op, body, rec.Body)
			}
		}
	})
}
