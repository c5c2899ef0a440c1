// Command moving is one application that runs embedded or on Amazon
// Kinesis with the same code: it writes orders for ten customers into a
// stream through a producer and processes them with a consumer group, checking that each
// customer's orders arrive in the order they were placed. Only the
// constructors of the stream and of the group's lease store differ.
//
// Kinesis delivers every record at least once, not exactly once: an SDK
// that retries a PutRecords whose answer it lost writes its records
// twice. The application skips an order it has already processed, as the
// Kinesis Client Library's guide advises, and counts it.
//
//	go run .                                        # embedded, in memory
//	go run . -endpoint http://127.0.0.1:4567 -leases memory     # any Kinesis endpoint (shardlogd here)
//	go run . -endpoint https://kinesis.us-east-1.amazonaws.com   # AWS (credentials from the environment)
//
// KINESIS_ENDPOINT sets the endpoint too. Against an endpoint, the stream
// is created if it does not exist, and the group keeps its leases in
// DynamoDB (in the table "moving", as the Kinesis Client Library would;
// DYNAMODB_ENDPOINT points elsewhere, at dynalite say), or in memory with
// -leases memory. A group that finds its checkpoints from an earlier run
// resumes after them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/aws"
	"github.com/shardlog/shardlog/producer"
)

func main() {
	endpoint := flag.String("endpoint", os.Getenv("KINESIS_ENDPOINT"), "Kinesis endpoint (empty: embedded)")
	stream := flag.String("stream", "orders", "stream name")
	orders := flag.Int("orders", 1000, "orders to write")
	leases := flag.String("leases", "dynamodb", "where the group keeps its leases against an endpoint: dynamodb or memory")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, store, closeStream, err := openStream(ctx, *endpoint, *stream, *leases)
	if err != nil {
		fmt.Fprintln(os.Stderr, "moving:", err)
		os.Exit(1)
	}
	defer closeStream()
	if _, err := run(ctx, s, store, *orders, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "moving:", err)
		os.Exit(1)
	}
}

// openStream is the only place where embedded and AWS differ: the stream,
// and where the group keeps its leases (nil: the embedded account's).
func openStream(ctx context.Context, endpoint, name, leases string) (shardlog.StreamAPI, shardlog.LeaseStore, func(), error) {
	if endpoint == "" {
		acct, err := shardlog.NewAccount()
		if err != nil {
			return nil, nil, nil, err
		}
		s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: name, ShardCount: 4})
		if err != nil {
			acct.Close()
			return nil, nil, nil, err
		}
		return s, nil, func() { acct.Close() }, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	client := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.BaseEndpoint = sdk.String(endpoint) })
	if err := ensureStream(ctx, client, name); err != nil {
		return nil, nil, nil, err
	}
	s, err := aws.Open(ctx, client, shardlog.StreamRef{StreamName: name})
	if err != nil {
		return nil, nil, nil, err
	}
	switch leases {
	case "memory":
		return s, shardlog.NewMemoryLeaseStore(), func() {}, nil
	case "dynamodb":
		db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			if e := os.Getenv("DYNAMODB_ENDPOINT"); e != "" {
				o.BaseEndpoint = sdk.String(e)
			}
		})
		return s, aws.NewLeaseStore(db), func() {}, nil
	}
	return nil, nil, nil, fmt.Errorf("-leases %q: want dynamodb or memory", leases)
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

// run writes n orders for ten customers, processes them with a consumer
// group and checks each customer's orders are in order. It returns the
// orders processed, by customer.
func run(ctx context.Context, s shardlog.StreamAPI, leases shardlog.LeaseStore, n int, out io.Writer) (map[string][]string, error) {
	if err := write(ctx, s, n); err != nil {
		return nil, err
	}
	p, err := process(ctx, s, leases, n)
	if err != nil {
		return nil, err
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "%d orders of %d customers processed, each customer's in order (%d duplicates skipped)\n",
		p.n, len(p.byCustomer), p.duplicates)
	return p.byCustomer, nil
}

// write puts n orders for ten customers through a producer, which
// batches them, retries what Kinesis throttles, and keeps each customer's
// orders in order (OrderPerKey).
func write(ctx context.Context, s shardlog.StreamAPI, n int) error {
	p, err := producer.New(s, producer.Config{OrderPerKey: true})
	if err != nil {
		return err
	}
	results := make([]*producer.Result, 0, n)
	for i := 0; i < n; i++ {
		customer := fmt.Sprint("customer-", i%10)
		r, err := p.Put(ctx, customer, []byte(fmt.Sprintf("%s order %04d", customer, i)))
		if err != nil {
			p.Close(ctx)
			return err
		}
		results = append(results, r)
	}
	if err := p.Close(ctx); err != nil { // sends what is buffered
		return err
	}
	for _, r := range results {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

// process runs a worker of the consumer group "moving" until it has
// processed n distinct orders.
func process(ctx context.Context, s shardlog.StreamAPI, leases shardlog.LeaseStore, n int) (*orders, error) {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	p := &orders{byCustomer: map[string][]string{}, seen: map[string]bool{}, want: n, done: stop}
	err := shardlog.RunWorker(ctx, s, shardlog.WorkerConfig{
		Application:  "moving",
		NewProcessor: shardlog.ProcessFunc(p.process),
		Leases:       leases,
		PollInterval: 200 * time.Millisecond,
	})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n < n {
		return nil, fmt.Errorf("processed %d of %d orders: %w", p.n, n, context.Cause(ctx))
	}
	return p, nil
}

// orders is the group's processor, shared by its shards: it collects each
// customer's orders, skipping those it has seen, and checkpoints after
// every batch.
type orders struct {
	mu         sync.Mutex
	byCustomer map[string][]string
	seen       map[string]bool
	n, want    int
	duplicates int
	done       func() // called once want orders were processed
}

// check reports an order processed before one placed earlier.
func (o *orders) check() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for customer, orders := range o.byCustomer {
		for i := 1; i < len(orders); i++ {
			if orders[i] < orders[i-1] {
				return fmt.Errorf("%s: %q came after %q", customer, orders[i], orders[i-1])
			}
		}
	}
	return nil
}

// process takes one batch; shardlog.ProcessFunc checkpoints it after.
func (o *orders) process(_ context.Context, in shardlog.ProcessRecordsInput) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range in.Records {
		order := string(r.Data)
		if o.seen[order] {
			o.duplicates++
			continue
		}
		o.seen[order] = true
		o.byCustomer[r.PartitionKey] = append(o.byCustomer[r.PartitionKey], order)
		o.n++
	}
	if o.n >= o.want {
		o.done()
	}
	return nil
}
