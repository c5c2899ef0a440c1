// Command moving is one application that runs embedded or on Amazon
// Kinesis with the same code: it writes orders for ten customers into a
// stream and reads them back, checking that each customer's orders arrive
// in the order they were placed. Only the constructor of the stream
// differs.
//
//	go run .                                        # embedded, in memory
//	go run . -endpoint http://127.0.0.1:4567        # any Kinesis endpoint (shardlogd here)
//	go run . -endpoint https://kinesis.us-east-1.amazonaws.com   # AWS (credentials from the environment)
//
// KINESIS_ENDPOINT sets the endpoint too. Against an endpoint, the stream
// is created if it does not exist.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/aws"
)

func main() {
	endpoint := flag.String("endpoint", os.Getenv("KINESIS_ENDPOINT"), "Kinesis endpoint (empty: embedded)")
	stream := flag.String("stream", "orders", "stream name")
	orders := flag.Int("orders", 1000, "orders to write")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, closeStream, err := openStream(ctx, *endpoint, *stream)
	if err != nil {
		fmt.Fprintln(os.Stderr, "moving:", err)
		os.Exit(1)
	}
	defer closeStream()
	if _, err := run(ctx, s, *orders, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "moving:", err)
		os.Exit(1)
	}
}

// openStream is the only place where embedded and AWS differ.
func openStream(ctx context.Context, endpoint, name string) (shardlog.StreamAPI, func(), error) {
	if endpoint == "" {
		acct, err := shardlog.NewAccount()
		if err != nil {
			return nil, nil, err
		}
		s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: name, ShardCount: 4})
		if err != nil {
			acct.Close()
			return nil, nil, err
		}
		return s, func() { acct.Close() }, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, nil, err
	}
	client := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.BaseEndpoint = sdk.String(endpoint) })
	if err := ensureStream(ctx, client, name); err != nil {
		return nil, nil, err
	}
	s, err := aws.Open(ctx, client, shardlog.StreamRef{StreamName: name})
	return s, func() {}, err
}

// ensureStream creates the stream with four shards unless it exists, and
// waits until it is ACTIVE. Creating streams is not part of StreamAPI: on
// AWS it is usually the infrastructure's job.
func ensureStream(ctx context.Context, client *kinesis.Client, name string) error {
	_, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: sdk.String(name), ShardCount: sdk.Int32(4)})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return err
	}
	return kinesis.NewStreamExistsWaiter(client, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	}).Wait(ctx, &kinesis.DescribeStreamInput{StreamName: sdk.String(name)}, time.Minute)
}

// run writes n orders for ten customers, reads the stream back and checks
// each customer's orders are in order. It returns the orders read, by
// customer.
func run(ctx context.Context, s shardlog.StreamAPI, n int, out io.Writer) (map[string][]string, error) {
	var batch []shardlog.PutInput
	for i := 0; i < n; i++ {
		customer := fmt.Sprint("customer-", i%10)
		batch = append(batch, shardlog.PutInput{PartitionKey: customer, Data: []byte(fmt.Sprintf("%s order %04d", customer, i))})
		if len(batch) == 500 || i == n-1 {
			if err := putAll(ctx, s, batch); err != nil {
				return nil, err
			}
			batch = batch[:0]
		}
	}
	read, err := readAll(ctx, s)
	if err != nil {
		return nil, err
	}
	total := 0
	for customer, orders := range read {
		for i := 1; i < len(orders); i++ {
			if orders[i] <= orders[i-1] {
				return nil, fmt.Errorf("%s: %q came after %q", customer, orders[i], orders[i-1])
			}
		}
		total += len(orders)
	}
	fmt.Fprintf(out, "%d orders of %d customers read back, each customer's in order\n", total, len(read))
	return read, nil
}

// putAll writes a batch, putting again the records that were throttled.
func putAll(ctx context.Context, s shardlog.StreamAPI, batch []shardlog.PutInput) error {
	for len(batch) > 0 {
		res, err := s.PutBatch(ctx, batch)
		if err != nil {
			return err
		}
		var again []shardlog.PutInput
		for i, r := range res.Records {
			if r.ErrorCode != "" {
				again = append(again, batch[i])
			}
		}
		if len(again) > 0 {
			time.Sleep(100 * time.Millisecond) // a shard's write limit refills within a second
		}
		batch = again
	}
	return nil
}

// readAll reads every shard from its start to its current end.
func readAll(ctx context.Context, s shardlog.StreamAPI) (map[string][]string, error) {
	read := map[string][]string{}
	shards, err := s.ListShards(ctx, shardlog.ListShardsInput{})
	if err != nil {
		return nil, err
	}
	for _, sh := range shards.Shards {
		it, err := s.GetShardIterator(ctx, sh.ShardID, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
		if err != nil {
			return nil, err
		}
		for it != "" {
			page, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
			if errors.Is(err, shardlog.ErrProvisionedThroughputExceeded) {
				time.Sleep(200 * time.Millisecond) // five reads a second per shard
				continue
			}
			if err != nil {
				return nil, err
			}
			for _, r := range page.Records {
				read[r.PartitionKey] = append(read[r.PartitionKey], string(r.Data))
			}
			if page.MillisBehindLatest == 0 && len(page.Records) == 0 {
				break
			}
			it = page.NextShardIterator
		}
	}
	return read, nil
}
