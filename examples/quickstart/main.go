// Command quickstart creates a 4-shard stream, puts records under several
// partition keys, reads them back shard by shard and prints a summary.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/shardlog/shardlog"
)

func main() {
	ctx := context.Background()
	acct, err := shardlog.NewAccount()
	if err != nil {
		log.Fatal(err)
	}
	defer acct.Close()

	const name = "quickstart"
	stream, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: name, ShardCount: 4})
	if err != nil {
		log.Fatal(err)
	}

	var batch []shardlog.PutInput
	for i := 0; i < 100; i++ {
		key := fmt.Sprintf("customer-%d", i%10)
		batch = append(batch, shardlog.PutInput{PartitionKey: key, Data: []byte(fmt.Sprintf("%s order %d", key, i/10))})
	}
	res, err := stream.PutBatch(ctx, batch)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("put %d records into stream %q (%d failed)\n\n", len(batch), name, res.FailedRecordCount)

	shards, err := acct.ListShards(ctx, shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: name}})
	if err != nil {
		log.Fatal(err)
	}
	total := 0
	for _, sh := range shards.Shards {
		it, err := stream.GetShardIterator(ctx, sh.ShardID, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
		if err != nil {
			log.Fatal(err)
		}
		out, err := acct.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
		if err != nil {
			log.Fatal(err)
		}
		perKey := map[string]int{}
		for _, r := range out.Records {
			perKey[r.PartitionKey]++
		}
		fmt.Printf("%s  %2d records  keys %v\n", sh.ShardID, len(out.Records), perKey)
		if len(out.Records) > 0 {
			first := out.Records[0]
			fmt.Printf("    first: %s = %q (sequence number %s)\n", first.PartitionKey, first.Data, first.SequenceNumber)
		}
		total += len(out.Records)
	}
	fmt.Printf("\nread back %d of %d records from %d shards\n", total, len(batch), len(shards.Shards))
}
