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
// (scripts/dynalite.sh), else in memory.
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
