package main

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"reflect"
	"testing"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/kinesisapi"
)

// TestSameOnBoth: the application, unchanged, processes the same orders in
// the same per-customer order embedded and against a Kinesis endpoint, its
// group's leases in DynamoDB when an emulator is there
// (scripts/emulators.sh), else in memory.
func TestSameOnBoth(t *testing.T) {
	ctx := context.Background()
	embedded, embeddedLeases, closeEmbedded, err := openStream(ctx, "", "orders", "")
	if err != nil {
		t.Fatal(err)
	}
	defer closeEmbedded()
	want, err := run(ctx, embedded, embeddedLeases, 1000, io.Discard)
	if err != nil {
		t.Fatal(err)
	}

	acct, err := shardlog.NewAccount(shardlog.WithoutLimits())
	if err != nil {
		t.Fatal(err)
	}
	defer acct.Close()
	srv := httptest.NewServer(kinesisapi.NewHandler(acct))
	defer srv.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	leases := "memory"
	if os.Getenv("DYNAMODB_ENDPOINT") != "" {
		leases = "dynamodb"
	}
	remote, remoteLeases, closeRemote, err := openStream(ctx, srv.URL, "orders", leases)
	if err != nil {
		t.Fatal(err)
	}
	defer closeRemote()
	got, err := run(ctx, remote, remoteLeases, 1000, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("the two runs read different orders")
	}
	if len(got) != 10 || len(got["customer-3"]) != 100 {
		t.Fatalf("read %d customers, %d orders of customer-3", len(got), len(got["customer-3"]))
	}
}

// TestDuplicatesSkipped: orders written twice, as by an SDK that retried a
// PutRecords whose answer it lost, are processed once and in order.
func TestDuplicatesSkipped(t *testing.T) {
	ctx := context.Background()
	s, _, closeStream, err := openStream(ctx, "", "orders", "")
	if err != nil {
		t.Fatal(err)
	}
	defer closeStream()
	for range 2 {
		if err := write(ctx, s, 100); err != nil {
			t.Fatal(err)
		}
	}
	p, err := process(ctx, s, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.check(); err != nil {
		t.Fatal(err)
	}
	if p.n != 100 || p.duplicates == 0 || len(p.byCustomer["customer-3"]) != 10 {
		t.Fatalf("processed %d orders, skipped %d duplicates, %d orders of customer-3", p.n, p.duplicates, len(p.byCustomer["customer-3"]))
	}
}

// TestOutOfOrder: an order processed after a later one of its customer is
// reported.
func TestOutOfOrder(t *testing.T) {
	p := &orders{byCustomer: map[string][]string{"customer-1": {"customer-1 order 0011", "customer-1 order 0001"}}}
	if err := p.check(); err == nil {
		t.Fatal("no error for orders out of order")
	}
}
