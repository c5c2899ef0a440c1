package kinesisapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/kinesisapi"
)

// BenchmarkSDKPutRecords sends PutRecords of 500 x 100 B through the real Go
// SDK client over loopback, in HTTP/1.1 and in cleartext HTTP/2; one op is
// one record.
func BenchmarkSDKPutRecords(b *testing.B) {
	for _, proto := range []string{"http1", "h2c"} {
		b.Run(proto+"/500x100B", func(b *testing.B) {
			c, _ := benchClient(b, proto == "h2c")
			create(b, c, "bench", 1)
			entries := make([]types.PutRecordsRequestEntry, 500)
			for i := range entries {
				entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("partition-%06d", i)), Data: make([]byte, 100)}
			}
			in := &kinesis.PutRecordsInput{StreamName: aws.String("bench"), Records: entries}
			b.ReportAllocs()
			b.ResetTimer()
			for sent := 0; sent < b.N; sent += len(entries) {
				out, err := c.PutRecords(ctx, in)
				if err != nil {
					b.Fatal(err)
				}
				if n := *out.FailedRecordCount; n != 0 {
					b.Fatalf("%d records failed", n)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkSDKGetRecords reads 100-byte records with GetRecords (10 000 a
// call) through the real Go SDK client, in HTTP/1.1 and in cleartext
// HTTP/2; one op is one record.
func BenchmarkSDKGetRecords(b *testing.B) {
	for _, proto := range []string{"http1", "h2c"} {
		b.Run(proto, func(b *testing.B) {
			c, acct := benchClient(b, proto == "h2c")
			create(b, c, "bench", 1)
			s, _ := acct.Stream(shardlog.StreamRef{StreamName: "bench"})
			batch := make([]shardlog.PutInput, 500)
			for i := range batch {
				batch[i] = shardlog.PutInput{PartitionKey: fmt.Sprintf("partition-%06d", i), Data: make([]byte, 100)}
			}
			for i := 0; i < 200; i++ { // 100 000 records
				if _, err := s.PutBatch(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for read := 0; read < b.N; {
				it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("bench"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
				if err != nil {
					b.Fatal(err)
				}
				for next := it.ShardIterator; next != nil && read < b.N; {
					out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: next})
					if err != nil {
						b.Fatal(err)
					}
					if len(out.Records) == 0 {
						break
					}
					read += len(out.Records)
					next = out.NextShardIterator
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// benchClient serves a fresh account without limits and returns the SDK
// client for it, speaking HTTP/1.1 or cleartext HTTP/2, with the SDK's
// default retries.
func benchClient(b *testing.B, h2c bool) (*kinesis.Client, *shardlog.Account) {
	if !h2c {
		c, acct, _ := setup(b, shardlog.WithoutLimits())
		return withRetries(c), acct
	}
	acct, err := shardlog.NewAccount(shardlog.WithoutLimits(), shardlog.WithAccountID("123456789012"))
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(kinesisapi.NewHandler(acct, kinesisapi.WithUnsignedRequests()))
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	b.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
		acct.Close()
	})
	return kinesis.New(kinesis.Options{
		BaseEndpoint: aws.String(srv.URL),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		HTTPClient:   &http.Client{Transport: tr},
	}), acct
}

// withRetries gives c the SDK's default retries. Under load the SDK
// sometimes closes a connection while it still reads a response (its
// request body is closed while the transport finishes writing it:
// aws/aws-sdk-go-v2#2737); real clients retry that, and so do the
// benchmarks.
func withRetries(c *kinesis.Client) *kinesis.Client {
	return kinesis.New(c.Options(), func(o *kinesis.Options) { o.RetryMaxAttempts = 3 })
}
