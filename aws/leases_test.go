package aws_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/aws"
)

// dynamo returns a client for the DynamoDB emulator that
// scripts/emulators.sh starts, or skips the test without one.
func dynamo(t *testing.T) *dynamodb.Client {
	t.Helper()
	endpoint := os.Getenv("DYNAMODB_ENDPOINT")
	if endpoint == "" {
		t.Skip("no DynamoDB emulator: run the tests with scripts/emulators.sh (needs node and npm) to include them")
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return dynamodb.New(dynamodb.Options{
		BaseEndpoint: sdk.String(endpoint),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		HTTPClient:   &http.Client{Transport: tr},
	})
}

var tables atomic.Int64

// table is a fresh group table name; the store keeps its last part.
func table() string { return fmt.Sprintf("stream/1/app%d-%d", time.Now().UnixNano(), tables.Add(1)) }

func seq(t *testing.T, s string) shardlog.SequenceNumber {
	n, err := shardlog.ParseSequenceNumber(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLeaseStoreSwap: leases are created only if absent and changed only
// if owner and counter are still the ones read, as the KCL writes them.
func TestLeaseStoreSwap(t *testing.T) {
	store := aws.NewLeaseStore(dynamo(t))
	ctx, tbl := t.Context(), table()
	if got, err := store.Leases(ctx, tbl); err != nil || len(got) != 0 {
		t.Fatalf("a missing table: %v, %v", got, err)
	}
	free := shardlog.Lease{Key: "shardId-000000000001", Counter: 1, Checkpoint: seq(t, "49590338271490256608559692538361571095921575989136588898"), Parents: []string{"shardId-000000000000"}}
	if err := store.Swap(ctx, tbl, nil, free); err != nil {
		t.Fatal(err)
	}
	if err := store.Swap(ctx, tbl, nil, free); !errors.Is(err, shardlog.ErrLeaseConflict) {
		t.Fatalf("creating twice: %v", err)
	}
	taken := free
	taken.Owner, taken.Counter = "worker-a", 2
	if err := store.Swap(ctx, tbl, &free, taken); err != nil {
		t.Fatalf("taking a free lease: %v", err)
	}
	stolen := taken
	stolen.Owner, stolen.Counter = "worker-b", 3
	if err := store.Swap(ctx, tbl, &free, stolen); !errors.Is(err, shardlog.ErrLeaseConflict) {
		t.Fatalf("taking with a stale read: %v", err)
	}
	checkpointed := taken
	checkpointed.Counter, checkpointed.CheckpointSubSequence = 3, 7
	if err := store.Swap(ctx, tbl, &taken, checkpointed); err != nil {
		t.Fatal(err)
	}
	got, err := store.Leases(ctx, tbl)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Owner != "worker-a" || got[0].Counter != 3 || got[0].CheckpointSubSequence != 7 ||
		got[0].Checkpoint.Compare(free.Checkpoint) != 0 || fmt.Sprint(got[0].Parents) != "[shardId-000000000000]" {
		t.Fatalf("read back %+v", got)
	}

	ended := checkpointed
	ended.Counter, ended.ShardEnd = 4, true
	if err := store.Swap(ctx, tbl, &checkpointed, ended); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Leases(ctx, tbl); len(got) != 1 || !got[0].ShardEnd {
		t.Fatalf("a shard read to its end: %+v", got)
	}
}

// TestLeaseStoreSpeaksKCL: items are the KCL's (names and types), and
// items the KCL wrote read as leases.
func TestLeaseStoreSpeaksKCL(t *testing.T) {
	client := dynamo(t)
	store := aws.NewLeaseStore(client)
	ctx, tbl := t.Context(), table()
	lease := shardlog.Lease{Key: "shardId-000000000000", Owner: "w", Counter: 5, Checkpoint: seq(t, "12345")}
	if err := store.Swap(ctx, tbl, nil, lease); err != nil {
		t.Fatal(err)
	}
	name := tbl[len("stream/1/"):]
	item, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: sdk.String(name), ConsistentRead: sdk.Bool(true),
		Key: map[string]types.AttributeValue{"leaseKey": &types.AttributeValueMemberS{Value: "shardId-000000000000"}}})
	if err != nil {
		t.Fatal(err)
	}
	for attr, want := range map[string]string{"leaseOwner": "S:w", "leaseCounter": "N:5", "checkpoint": "S:12345",
		"checkpointSubSequenceNumber": "N:0", "ownerSwitchesSinceCheckpoint": "N:0"} {
		if got := attrText(item.Item[attr]); got != want {
			t.Errorf("%s is %s, want %s", attr, got, want)
		}
	}
	if err := store.Swap(ctx, tbl, nil, shardlog.Lease{Key: "shardId-000000000001", Start: shardlog.Latest}); err != nil {
		t.Fatal(err)
	}
	item, err = client.GetItem(ctx, &dynamodb.GetItemInput{TableName: sdk.String(name), ConsistentRead: sdk.Bool(true),
		Key: map[string]types.AttributeValue{"leaseKey": &types.AttributeValueMemberS{Value: "shardId-000000000001"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := attrText(item.Item["checkpoint"]); got != "S:LATEST" {
		t.Errorf("a lease at LATEST has the checkpoint %s", got)
	}

	// As the KCL writes a new lease of a child shard.
	_, err = client.PutItem(ctx, &dynamodb.PutItemInput{TableName: sdk.String(name), Item: map[string]types.AttributeValue{
		"leaseKey":                     &types.AttributeValueMemberS{Value: "shardId-000000000003"},
		"leaseCounter":                 &types.AttributeValueMemberN{Value: "0"},
		"checkpoint":                   &types.AttributeValueMemberS{Value: "TRIM_HORIZON"},
		"checkpointSubSequenceNumber":  &types.AttributeValueMemberN{Value: "0"},
		"ownerSwitchesSinceCheckpoint": &types.AttributeValueMemberN{Value: "0"},
		"parentShardId":                &types.AttributeValueMemberSS{Value: []string{"shardId-000000000001", "shardId-000000000002"}},
		"startingHashKey":              &types.AttributeValueMemberS{Value: "0"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	leases, err := store.Leases(ctx, tbl)
	if err != nil {
		t.Fatal(err)
	}
	var child *shardlog.Lease
	for i := range leases {
		if leases[i].Key == "shardId-000000000003" {
			child = &leases[i]
		}
	}
	if child == nil || child.Owner != "" || !child.Checkpoint.IsZero() || child.Start != shardlog.TrimHorizon || len(child.Parents) != 2 {
		t.Fatalf("the KCL's lease read as %+v", child)
	}

	// Taking it and checkpointing it update the item in place, as the KCL
	// does: its other attributes stay.
	childKey := map[string]types.AttributeValue{"leaseKey": &types.AttributeValueMemberS{Value: "shardId-000000000003"}}
	stored := func() map[string]types.AttributeValue {
		t.Helper()
		out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: sdk.String(name), ConsistentRead: sdk.Bool(true), Key: childKey})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item
	}
	taken := *child
	taken.Owner, taken.Counter = "w2", 1
	if err := store.Swap(ctx, tbl, child, taken); err != nil {
		t.Fatal(err)
	}
	item2 := stored()
	if got := attrText(item2["ownerSwitchesSinceCheckpoint"]); got != "N:1" {
		t.Errorf("after a take, ownerSwitchesSinceCheckpoint is %s", got)
	}
	checkpointed := taken
	checkpointed.Counter, checkpointed.Checkpoint = 2, seq(t, "777")
	if err := store.Swap(ctx, tbl, &taken, checkpointed); err != nil {
		t.Fatal(err)
	}
	item2 = stored()
	for attr, want := range map[string]string{"leaseOwner": "S:w2", "leaseCounter": "N:2", "checkpoint": "S:777",
		"ownerSwitchesSinceCheckpoint": "N:0", "startingHashKey": "S:0"} {
		if got := attrText(item2[attr]); got != want {
			t.Errorf("after a checkpoint, %s is %s, want %s", attr, got, want)
		}
	}
	if err := store.Swap(ctx, tbl, &taken, checkpointed); !errors.Is(err, shardlog.ErrLeaseConflict) {
		t.Fatalf("a stale update: %v", err)
	}
	// A graceful hand-off: asked for in the KCL's checkpointOwner.
	asked := checkpointed
	asked.Counter, asked.Successor = 3, "w3"
	if err := store.Swap(ctx, tbl, &checkpointed, asked); err != nil {
		t.Fatal(err)
	}
	if got := attrText(stored()["checkpointOwner"]); got != "S:w3" {
		t.Errorf("asked for, checkpointOwner is %s", got)
	}
	if got, err := store.Leases(ctx, tbl); err != nil || !hasSuccessor(got, "shardId-000000000003", "w3") {
		t.Fatalf("the successor does not read back: %+v, %v", got, err)
	}
	handed := asked
	handed.Owner, handed.Successor, handed.Counter = "w3", "", 4
	if err := store.Swap(ctx, tbl, &asked, handed); err != nil {
		t.Fatal(err)
	}
	if _, ok := stored()["checkpointOwner"]; ok {
		t.Error("a handed-over lease keeps checkpointOwner")
	}
	freed := handed
	freed.Owner, freed.Counter = "", 5
	if err := store.Swap(ctx, tbl, &handed, freed); err != nil {
		t.Fatal(err)
	}
	if _, owned := stored()["leaseOwner"]; owned {
		t.Error("a freed lease keeps its owner")
	}
}

func hasSuccessor(leases []shardlog.Lease, key, successor string) bool {
	for _, l := range leases {
		if l.Key == key {
			return l.Successor == successor
		}
	}
	return false
}

func attrText(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return "S:" + v.Value
	case *types.AttributeValueMemberN:
		return "N:" + v.Value
	}
	return fmt.Sprintf("%T", v)
}

// TestGroupWithDynamoDBLeases: a consumer group keeps its leases and
// checkpoints in DynamoDB, embedded and on Kinesis (kinesisapi through the
// SDK): its records are processed once and its checkpoints are there for
// the next worker.
func TestGroupWithDynamoDBLeases(t *testing.T) {
	store := aws.NewLeaseStore(dynamo(t))
	for _, via := range []string{"embedded", "kinesis"} {
		t.Run(via, func(t *testing.T) {
			client, acct := serve(t)
			embedded, err := acct.CreateStream(t.Context(), shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 2})
			if err != nil {
				t.Fatal(err)
			}
			var s shardlog.StreamAPI = embedded
			if via == "kinesis" {
				if s, err = aws.Open(t.Context(), client, shardlog.StreamRef{StreamName: "orders"}); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < 10; i++ {
				if _, err := s.Put(t.Context(), shardlog.PutInput{PartitionKey: fmt.Sprint("k", i), Data: []byte{byte(i)}}); err != nil {
					t.Fatal(err)
				}
			}
			app := fmt.Sprint("group", time.Now().UnixNano())
			got := make(chan int, 10)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() {
				done <- shardlog.RunWorker(ctx, s, shardlog.WorkerConfig{Application: app, WorkerID: "w1", Leases: store,
					PollInterval: 10 * time.Millisecond,
					NewProcessor: shardlog.ProcessFunc(func(_ context.Context, in shardlog.ProcessRecordsInput) error {
						for range in.Records {
							got <- 1
						}
						return nil
					})})
			}()
			for i := 0; i < 10; i++ {
				select {
				case <-got:
				case <-time.After(20 * time.Second):
					t.Fatalf("processed %d of 10 records", i)
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			leases, err := store.Leases(t.Context(), "orders/x/"+app)
			if err != nil {
				t.Fatal(err)
			}
			checkpointed := 0
			for _, l := range leases {
				if !l.Checkpoint.IsZero() && l.Owner == "" {
					checkpointed++
				}
			}
			if len(leases) != 2 || checkpointed != 2 {
				t.Fatalf("leases in DynamoDB: %+v", leases)
			}
		})
	}
}
