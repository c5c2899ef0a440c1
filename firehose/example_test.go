package firehose_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/firehose"
)

// A direct-put delivery stream that keeps its records in an embedded
// stream and delivers them, as objects named the way Firehose names its S3
// objects, to a folder.
func ExampleNew() {
	ctx := context.Background()
	acct, err := shardlog.NewAccount() // shardlog.WithDir makes the records outlive the process until delivered
	if err != nil {
		panic(err)
	}
	defer acct.Close()
	backing, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "orders-delivery", ShardCount: 1})
	if err != nil {
		panic(err)
	}
	bucket, _ := os.MkdirTemp("", "bucket")
	defer os.RemoveAll(bucket)
	d, err := firehose.New(firehose.Config{
		Name:        "orders",
		Source:      backing,
		DirectPut:   true,
		Destination: firehose.Dir(bucket),
		Prefix:      "orders/",
		Buffering:   firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 0}, // deliver at once
	})
	if err != nil {
		panic(err)
	}
	if _, err := d.PutRecordBatch(ctx, [][]byte{[]byte(`{"id":1}` + "\n"), []byte(`{"id":2}` + "\n")}); err != nil {
		panic(err)
	}

	run, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(run) }()
	for d.Totals().DeliveredRecords < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		panic(err)
	}

	objects, _ := filepath.Glob(filepath.Join(bucket, "orders", "*", "*", "*", "*", "orders-1-*"))
	body, _ := os.ReadFile(objects[0])
	fmt.Printf("%d object:\n%s", len(objects), body)
	// Output:
	// 1 object:
	// {"id":1}
	// {"id":2}
}
