package main

import (
	"context"
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/kinesisapi"
)

// TestSameOnBoth: the job, unchanged, emits the same windows embedded on a
// durable stream and against a Kinesis endpoint (shardlogd's handler).
func TestSameOnBoth(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	embedded, leases, closeEmbedded, err := openStream(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := run(ctx, embedded, leases, dir, io.Discard)
	closeEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 10 || !strings.HasPrefix(want[9], "12 late clicks") {
		t.Fatalf("got %q", want)
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
	remote, remoteLeases, closeRemote, err := openStream(ctx, srv.URL, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer closeRemote()
	got, err := run(ctx, remote, remoteLeases, t.TempDir(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("embedded:\n%s\nendpoint:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
}
