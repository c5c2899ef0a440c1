package aws_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"go.uber.org/goleak"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/aws"
	"github.com/shardlog/shardlog/kinesisapi"
	"github.com/shardlog/shardlog/streamtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve starts an in-process Kinesis endpoint (kinesisapi over a fresh
// account) and returns an SDK client for it, retries off, and the account.
func serve(t *testing.T, opts ...shardlog.Option) (*kinesis.Client, *shardlog.Account) {
	t.Helper()
	acct, err := shardlog.NewAccount(append([]shardlog.Option{shardlog.WithoutLimits()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(kinesisapi.NewHandler(acct))
	t.Cleanup(func() {
		srv.Close()
		acct.Close()
	})
	return kinesis.New(kinesis.Options{
		BaseEndpoint:     sdk.String(srv.URL),
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       srv.Client(),
	}), acct
}

var n atomic.Int64

// open creates a stream in-process and opens it through the SDK.
func open(t *testing.T, client *kinesis.Client, acct *shardlog.Account, shards int) *aws.Stream {
	t.Helper()
	name := fmt.Sprint("s", n.Add(1))
	if _, err := acct.CreateStream(t.Context(), shardlog.CreateStreamInput{StreamName: name, ShardCount: shards}); err != nil {
		t.Fatal(err)
	}
	s, err := aws.Open(t.Context(), client, shardlog.StreamRef{StreamName: name})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformance runs shardlog's StreamAPI suite on the AWS SDK
// implementation, against kinesisapi: the same behaviour as embedded.
func TestConformance(t *testing.T) {
	streamtest.Run(t, func(t *testing.T, shards int) shardlog.StreamAPI {
		client, acct := serve(t)
		return open(t, client, acct, shards)
	})
}

// TestConformanceOnKinesalite runs the suite against kinesalite, another
// Kinesis implementation, which names streams only by name: a Stream opened
// by name must speak that dialect. scripts/emulators.sh starts kinesalite;
// without it the test skips.
func TestConformanceOnKinesalite(t *testing.T) {
	endpoint := os.Getenv("KINESALITE_ENDPOINT")
	if endpoint == "" {
		t.Skip("no kinesalite: run the tests with scripts/emulators.sh (needs node and npm) to include them")
	}
	streamtest.Run(t, func(t *testing.T, shards int) shardlog.StreamAPI {
		tr := &http.Transport{}
		t.Cleanup(tr.CloseIdleConnections)
		client := kinesis.New(kinesis.Options{
			BaseEndpoint: sdk.String(endpoint),
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
			HTTPClient:   &http.Client{Transport: tr},
		})
		name := fmt.Sprintf("conformance-%d-%d", time.Now().UnixNano(), n.Add(1))
		_, err := client.CreateStream(t.Context(), &kinesis.CreateStreamInput{StreamName: sdk.String(name), ShardCount: sdk.Int32(int32(shards))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_, _ = client.DeleteStream(context.Background(), &kinesis.DeleteStreamInput{StreamName: sdk.String(name)})
		})
		w := kinesis.NewStreamExistsWaiter(client, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
		if err := w.Wait(t.Context(), &kinesis.DescribeStreamInput{StreamName: sdk.String(name)}, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		s, err := aws.Open(t.Context(), client, shardlog.StreamRef{StreamName: name})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, streamtest.WithoutConsumers("kinesalite has no enhanced fan-out consumers"))
}

// TestErrorsMapToSentinels: the SDK's typed errors come back as shardlog's,
// retryability included; other errors pass through.
func TestErrorsMapToSentinels(t *testing.T) {
	client, acct := serve(t, shardlog.WithLimits(shardlog.Limits{WriteRecordsPerSecond: 1}),
		shardlog.WithClock(shardlog.NewManualClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))))
	s := open(t, client, acct, 1)
	_, err := s.Put(t.Context(), shardlog.PutInput{PartitionKey: "k", Data: []byte("1")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Put(t.Context(), shardlog.PutInput{PartitionKey: "k", Data: []byte("2")})
	var e *shardlog.Error
	if !errors.Is(err, shardlog.ErrProvisionedThroughputExceeded) || !errors.As(err, &e) || !e.Retryable || e.Message == "" {
		t.Fatalf("a throttled put: %#v", err)
	}

	_, err = aws.Open(t.Context(), client, shardlog.StreamRef{StreamName: "missing"})
	if !errors.Is(err, shardlog.ErrResourceNotFound) {
		t.Fatalf("a missing stream: %v", err)
	}

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = s.Put(cancelled, shardlog.PutInput{PartitionKey: "k", Data: []byte("3")})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled put: %v", err)
	}
}

// TestKinesisSequenceNumbersRoundTrip: a number in Kinesis's layout, as
// real Kinesis issues, passes through as text.
func TestKinesisSequenceNumbersRoundTrip(t *testing.T) {
	client, acct := serve(t)
	s := open(t, client, acct, 1)
	fromAWS, err := shardlog.ParseSequenceNumber("49590338271490256608559692538361571095921575989136588898")
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Put(t.Context(), shardlog.PutInput{PartitionKey: "k", Data: []byte("x"), SequenceNumberForOrdering: fromAWS})
	if err != nil {
		t.Fatalf("Kinesis accepts its own numbers for ordering: %v", err)
	}
	if r.ShardID != "shardId-000000000000" || r.SequenceNumber.IsZero() {
		t.Fatalf("put %+v", r)
	}
}

// TestSubscriptionEndsWithItsContext: cancelling the context of
// SubscribeToShard ends the subscription with the context's error and
// closes its event stream (goleak checks nothing is left).
func TestSubscriptionEndsWithItsContext(t *testing.T) {
	client, acct := serve(t)
	s := open(t, client, acct, 1)
	if _, err := s.RegisterStreamConsumer(t.Context(), "app"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	sub, err := s.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerName: "app", ShardID: "shardId-000000000000", StartingPosition: shardlog.StartingPosition{Type: shardlog.Latest}})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for range sub.Events() {
	}
	if !errors.Is(sub.Err(), context.Canceled) {
		t.Fatalf("ended with %v", sub.Err())
	}
	if _, err := s.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerName: "app", ShardID: "shardId-000000000000", StartingPosition: shardlog.StartingPosition{Type: shardlog.Latest}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("subscribing with a cancelled context: %v", err)
	}
}

// TestSubscribeAfterTheConsumerWasRegisteredAgain: a consumer deregistered
// and registered again elsewhere, under a new ARN, is found again.
func TestSubscribeAfterTheConsumerWasRegisteredAgain(t *testing.T) {
	client, acct := serve(t)
	s := open(t, client, acct, 1)
	subscribe := func() {
		t.Helper()
		if _, err := s.RegisterStreamConsumer(t.Context(), "app"); err != nil && !errors.Is(err, shardlog.ErrResourceInUse) {
			t.Fatal(err)
		}
		sub, err := s.SubscribeToShard(t.Context(), shardlog.SubscribeToShardInput{ConsumerName: "app", ShardID: "shardId-000000000000", StartingPosition: shardlog.StartingPosition{Type: shardlog.TrimHorizon}})
		if err != nil {
			t.Fatal(err)
		}
		if err := sub.Close(); err != nil {
			t.Fatal(err)
		}
	}
	subscribe()
	embedded, err := acct.Stream(shardlog.StreamRef{StreamName: s.Name()})
	if err != nil {
		t.Fatal(err)
	}
	if err := embedded.DeregisterStreamConsumer(t.Context(), "app"); err != nil {
		t.Fatal(err)
	}
	if _, err := embedded.RegisterStreamConsumer(t.Context(), "app"); err != nil {
		t.Fatal(err)
	}
	subscribe()
}

// TestKMSErrorsMapToSentinels: a put to a stream whose KMS key is disabled
// fails with shardlog.ErrKMSDisabled through the SDK too.
func TestKMSErrorsMapToSentinels(t *testing.T) {
	ring := shardlog.NewKeyRing()
	if err := ring.AddKey("k1", make([]byte, 32), "alias/orders"); err != nil {
		t.Fatal(err)
	}
	client, acct := serve(t, shardlog.WithKeyRing(ring))
	s := open(t, client, acct, 1)
	embedded, err := acct.Stream(shardlog.StreamRef{StreamName: s.Name()})
	if err != nil {
		t.Fatal(err)
	}
	if err := embedded.StartStreamEncryption(t.Context(), shardlog.EncryptionKMS, "alias/orders"); err != nil {
		t.Fatal(err)
	}
	if err := ring.DisableKey("k1"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Put(t.Context(), shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})
	if !errors.Is(err, shardlog.ErrKMSDisabled) {
		t.Fatalf("a put with a disabled key: %v", err)
	}
}

// TestSubscribeByARN: a subscription can name its consumer by ARN, as
// Kinesis's SubscribeToShard does, without a lookup by name.
func TestSubscribeByARN(t *testing.T) {
	client, acct := serve(t)
	s := open(t, client, acct, 1)
	c, err := s.RegisterStreamConsumer(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(t.Context(), shardlog.PutInput{PartitionKey: "k", Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	sub, err := s.SubscribeToShard(t.Context(), shardlog.SubscribeToShardInput{ConsumerARN: c.ConsumerARN, ShardID: "shardId-000000000000",
		StartingPosition: shardlog.StartingPosition{Type: shardlog.TrimHorizon}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for ev := range sub.Events() {
		if len(ev.Records) == 1 && string(ev.Records[0].Data) == "x" {
			return
		}
	}
	t.Fatalf("the subscription ended without the record: %v", sub.Err())
}
