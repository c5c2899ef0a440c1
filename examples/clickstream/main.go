// Command clickstream counts page views per page per minute in event
// time, with late clicks set aside — a Kinesis Data Analytics job, run
// by package analytics on an embedded durable stream or on any Kinesis
// endpoint with the same code.
//
//	go run .                                   # embedded: a durable account in a temporary folder
//	go run . -endpoint http://127.0.0.1:4567   # shardlogd (or Amazon Kinesis, credentials from the environment)
//
// It writes three minutes of clicks from twenty users and a click a few
// minutes on in each shard, which moves the watermark past the three
// minutes; then twelve clicks it held back, now too late for their
// windows. It prints each window's count and the late clicks. The job's
// snapshots are kept in the temporary folder too; against an endpoint the
// stream "clicks" is created if need be, and must be new.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/analytics"
	"github.com/shardlog/shardlog/aws"
)

// click is a page view.
type click struct {
	Page string    `json:"page"`
	User string    `json:"user"`
	At   time.Time `json:"at"`
}

func main() {
	endpoint := flag.String("endpoint", os.Getenv("KINESIS_ENDPOINT"), "Kinesis endpoint (empty: embedded)")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "clickstream")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	s, leases, closeStream, err := openStream(ctx, *endpoint, dir)
	if err != nil {
		fail(err)
	}
	defer closeStream()
	if _, err := run(ctx, s, leases, dir, os.Stdout); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "clickstream:", err)
	os.Exit(1)
}

// openStream is the only place where embedded and an endpoint differ.
func openStream(ctx context.Context, endpoint, dir string) (shardlog.StreamAPI, shardlog.LeaseStore, func(), error) {
	if endpoint == "" {
		acct, err := shardlog.NewAccount(shardlog.WithDir(dir + "/account"))
		if err != nil {
			return nil, nil, nil, err
		}
		s, err := acct.Stream(shardlog.StreamRef{StreamName: "clicks"})
		if errors.Is(err, shardlog.ErrResourceNotFound) {
			s, err = acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "clicks", ShardCount: 2})
		}
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
	_, err = client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: sdk.String("clicks"), ShardCount: sdk.Int32(2)})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return nil, nil, nil, err
	}
	err = kinesis.NewStreamExistsWaiter(client, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	}).Wait(ctx, &kinesis.DescribeStreamInput{StreamName: sdk.String("clicks")}, time.Minute)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := aws.Open(ctx, client, shardlog.StreamRef{StreamName: "clicks"})
	if err != nil {
		return nil, nil, nil, err
	}
	return s, shardlog.NewMemoryLeaseStore(), func() {}, nil
}

// run writes the clicks, runs the job until it has emitted every window
// of the three minutes, and prints them. It returns the lines printed.
func run(ctx context.Context, s shardlog.StreamAPI, leases shardlog.LeaseStore, dir string, out io.Writer) ([]string, error) {
	start, onTime, delayed := clicks()
	var mu sync.Mutex
	var lines []string
	windows := map[string]bool{}
	late := 0
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	job, err := analytics.New(analytics.Config[click, string, int64, int64]{
		Name:    "page-views",
		Sources: []shardlog.StreamAPI{s},
		Leases:  leases,
		Store:   analytics.DirStore(dir + "/snapshots"),
		Decode: func(u shardlog.UserRecord) (click, error) {
			var c click
			err := json.Unmarshal(u.Data, &c)
			return c, err
		},
		Key:               func(c click) string { return c.Page },
		EventTime:         func(c click) time.Time { return c.At },
		MaxOutOfOrderness: 5 * time.Second,
		AllowedLateness:   10 * time.Second,
		Window:            analytics.Tumbling(time.Minute),
		Aggregate:         analytics.Count[click](),
		WorkerID:          "clickstream",
		Late: func(e analytics.LateEvent[click]) {
			mu.Lock()
			defer mu.Unlock()
			late++
			if late == len(delayed) && len(windows) == 9 {
				stop()
			}
		},
		Output: analytics.OutputFunc[string, int64](func(_ context.Context, rs []analytics.Result[string, int64]) error {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range rs {
				if r.End.After(start.Add(3*time.Minute)) || windows[r.ID] {
					continue // the watermark's own clicks, or a result emitted again after a restart
				}
				windows[r.ID] = true
				lines = append(lines, fmt.Sprintf("minute %d  %-8s %3d views", int(r.Start.Sub(start)/time.Minute), r.Key, r.Value))
			}
			if late == len(delayed) && len(windows) == 9 { // three pages, three minutes
				stop()
			}
			return nil
		}),
	})
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- job.Run(ctx) }()
	// The clicks on time, and the watermark's: the job fires the three
	// minutes' windows. Then the delayed clicks, too late for them.
	if err := put(ctx, s, onTime); err != nil {
		stop()
		<-done
		return nil, err
	}
	for tick := time.NewTicker(10 * time.Millisecond); job.Stats().Events < int64(len(onTime)); {
		select {
		case <-tick.C:
		case err := <-done:
			return nil, fmt.Errorf("the job stopped early: %v", err)
		}
	}
	if err := put(ctx, s, delayed); err != nil {
		stop()
		<-done
		return nil, err
	}
	if err := <-done; err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	if len(windows) < 9 || late < len(delayed) {
		return nil, fmt.Errorf("%d of 9 windows emitted, %d of %d late clicks seen: %w", len(windows), late, len(delayed), context.Cause(ctx))
	}
	slices.Sort(lines)
	lines = append(lines, fmt.Sprintf("%d late clicks left out", late))
	for _, l := range lines {
		fmt.Fprintln(out, l)
	}
	return lines, nil
}

// clicks makes three minutes of clicks (from a fixed start, so that every
// run makes the same), twelve of them to be delayed, and a click five
// minutes on for each shard (by hash key), which moves the watermark past
// them.
func clicks() (start time.Time, onTime, delayed []shardlog.PutInput) {
	start = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	pages := []string{"home", "cart", "checkout"}
	for i := range 600 {
		c := click{Page: pages[rng.IntN(3)], User: fmt.Sprint("user-", rng.IntN(20)), At: start.Add(time.Duration(i) * 300 * time.Millisecond)}
		data, _ := json.Marshal(c)
		in := shardlog.PutInput{PartitionKey: c.User, Data: data}
		if i%50 == 7 {
			delayed = append(delayed, in)
		} else {
			onTime = append(onTime, in)
		}
	}
	// The two shards split the hash keys at 2^127.
	for _, hashKey := range []string{"0", "170141183460469231731687303715884105728"} {
		data, _ := json.Marshal(click{Page: "home", User: "watermark", At: start.Add(5 * time.Minute)})
		onTime = append(onTime, shardlog.PutInput{PartitionKey: "watermark", Data: data, ExplicitHashKey: hashKey})
	}
	return start, onTime, delayed
}

func put(ctx context.Context, s shardlog.StreamAPI, records []shardlog.PutInput) error {
	for len(records) > 0 {
		n := min(len(records), 500)
		out, err := s.PutBatch(ctx, records[:n])
		if err != nil {
			return err
		}
		if out.FailedRecordCount > 0 {
			return fmt.Errorf("%d clicks not put", out.FailedRecordCount)
		}
		records = records[n:]
	}
	return nil
}
