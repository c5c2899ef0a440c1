// Package firehosetest helps test a firehose.Destination: it runs a
// direct-put delivery stream over an in-memory stream that delivers to it
// at once.
package firehosetest

import (
	"context"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/firehose"
)

// Deliver makes a direct-put delivery stream of cfg (named Name, or
// "orders"; its source an in-memory stream of one shard; buffering 1 MiB
// or 0 s, so that each put batch is delivered at once), puts records into
// it, and runs it until done holds of its Totals, for up to a minute. It
// returns the delivery stream, stopped.
func Deliver(t testing.TB, cfg firehose.Config, records []string, done func(firehose.Totals) bool) *firehose.DeliveryStream {
	t.Helper()
	acct, err := shardlog.NewAccount(shardlog.WithoutLimits())
	if err != nil {
		t.Fatal(err)
	}
	defer acct.Close()
	ctx := context.Background()
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "backing", ShardCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Name == "" {
		cfg.Name = "orders"
	}
	cfg.Source, cfg.DirectPut = s, true
	cfg.Buffering = firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 0}
	d, err := firehose.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	in := make([][]byte, len(records))
	for i, r := range records {
		in[i] = []byte(r)
	}
	if out, err := d.PutRecordBatch(ctx, in); err != nil || out.FailedPutCount > 0 {
		t.Fatalf("PutRecordBatch: %v, %d failed", err, out.FailedPutCount)
	}
	run, stop := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- d.Run(run) }()
	deadline := time.Now().Add(time.Minute)
	for !done(d.Totals()) {
		if time.Now().After(deadline) {
			stop()
			<-stopped
			t.Fatalf("not done in a minute: %+v", d.Totals())
		}
		time.Sleep(10 * time.Millisecond) // real time: the destination is real
	}
	stop()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	return d
}
