package kinesisapi_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/kinesisapi"
)

// TestHTTP2 runs unary calls and a SubscribeToShard event stream through
// the SDK over cleartext HTTP/2 with prior knowledge (what the JavaScript
// SDK v3 sends to http:// endpoints) and over HTTP/2 negotiated by TLS,
// and checks that every request arrived as HTTP/2.
func TestHTTP2(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"cleartext", false}, {"tls", true}} {
		t.Run(tc.name, func(t *testing.T) {
			clk := shardlog.NewManualClock(t0)
			acct, err := shardlog.NewAccount(shardlog.WithClock(clk), shardlog.WithoutLimits(), shardlog.WithAccountID("123456789012"))
			require.NoError(t, err)
			var http1 atomic.Int32
			h := kinesisapi.NewHandler(acct, kinesisapi.WithUnsignedRequests())
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.ProtoMajor != 2 {
					http1.Add(1)
				}
				h.ServeHTTP(w, r)
			}))
			srv.Config.Protocols = new(http.Protocols)
			srv.Config.Protocols.SetHTTP1(true)
			transport := &http.Transport{Protocols: new(http.Protocols)}
			if tc.tls {
				srv.EnableHTTP2 = true
				srv.Config.Protocols.SetHTTP2(true)
				srv.StartTLS()
				transport.TLSClientConfig = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
				transport.Protocols.SetHTTP2(true)
			} else {
				srv.Config.Protocols.SetUnencryptedHTTP2(true)
				srv.Start()
				transport.Protocols.SetUnencryptedHTTP2(true)
			}
			t.Cleanup(func() {
				transport.CloseIdleConnections()
				srv.Close()
				acct.Close()
			})
			c := kinesis.New(kinesis.Options{
				BaseEndpoint:     aws.String(srv.URL),
				Region:           "us-east-1",
				Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
				RetryMaxAttempts: 1,
				HTTPClient:       sdkClient(&http.Client{Transport: transport}),
			})

			create(t, c, "s", 1)
			arn := aws.String("arn:aws:kinesis:us-east-1:123456789012:stream/s")
			reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String("app")})
			require.NoError(t, err)
			_, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: arn, PartitionKey: aws.String("k"), Data: []byte("one")})
			require.NoError(t, err)

			it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: arn, ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			require.NoError(t, err)
			got, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
			require.NoError(t, err)
			require.Len(t, got.Records, 1)

			sub := &subscriber{t: t, c: c, clk: clk, consumer: reg.Consumer.ConsumerARN}
			sub.open()
			defer func() { sub.stream.Close() }()
			var data []string
			for len(data) < 2 {
				if len(data) == 1 {
					_, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: arn, PartitionKey: aws.String("k"), Data: []byte("two")})
					require.NoError(t, err)
				}
				e := sub.next()
				require.NotNil(t, e, "the stream ended early")
				for _, r := range e.Records {
					data = append(data, string(r.Data))
				}
			}
			require.Equal(t, []string{"one", "two"}, data)
			require.Zero(t, http1.Load(), "requests that arrived over HTTP/1")
		})
	}
}
