package aws_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/kinesisapi"
)

// bodyRecorder is an SDK HTTP client that notes which requests came with
// a body that net/http would copy through WriteTo.
type bodyRecorder struct {
	next     *http.Client
	mu       sync.Mutex
	requests int
	writeTo  []string // targets of the requests whose body has WriteTo
}

func (r *bodyRecorder) Do(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.requests++
	if _, ok := req.Body.(io.WriterTo); ok {
		r.writeTo = append(r.writeTo, req.Header.Get("X-Amz-Target"))
	}
	r.mu.Unlock()
	return r.next.Do(req)
}

// TestRequestBodiesHaveNoWriteTo: every call hands net/http a request body
// without WriteTo, whose io.EOF after the SDK closes it (a race with the
// response on a fast network) would make net/http close the connection
// under the response.
func TestRequestBodiesHaveNoWriteTo(t *testing.T) {
	acct, err := shardlog.NewAccount(shardlog.WithoutLimits())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(kinesisapi.NewHandler(acct))
	defer func() { srv.Close(); acct.Close() }()
	rec := &bodyRecorder{next: srv.Client()}
	client := kinesis.New(kinesis.Options{BaseEndpoint: sdk.String(srv.URL), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), RetryMaxAttempts: 1, HTTPClient: rec})
	s := open(t, client, acct, 1)
	ctx := t.Context()
	if _, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutBatch(ctx, []shardlog.PutInput{{PartitionKey: "k", Data: []byte("y")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListShards(ctx, shardlog.ListShardsInput{}); err != nil {
		t.Fatal(err)
	}
	it, err := s.GetShardIterator(ctx, "shardId-000000000000", shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RegisterStreamConsumer(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	sub, err := s.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerName: "app", ShardID: "shardId-000000000000", StartingPosition: shardlog.StartingPosition{Type: shardlog.TrimHorizon}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.requests < 8 {
		t.Fatalf("%d requests seen", rec.requests)
	}
	if len(rec.writeTo) > 0 {
		t.Fatalf("bodies with WriteTo in %v", rec.writeTo)
	}
}
