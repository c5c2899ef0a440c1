package aws_test

import (
	"fmt"
	"testing"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/producer"
)

// TestProducerOverTheWire: the producer writes through the AWS SDK as it
// does into an embedded stream, aggregated, with partial failures
// retried; a consumer that deaggregates gets every record once.
func TestProducerOverTheWire(t *testing.T) {
	client, acct := serve(t)
	s := open(t, client, acct, 3)
	if _, err := acct.InjectFault(shardlog.Fault{Operation: "PutRecords", StreamName: s.Name(), Records: []int{0, 2}, Times: 3}); err != nil {
		t.Fatal(err)
	}
	p, err := producer.New(s, producer.Config{Aggregation: true, AggregationMaxSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]*producer.Result{}
	for i := range 1000 {
		key, data := fmt.Sprintf("k%d", i%37), fmt.Sprint(i)
		r, err := p.Put(t.Context(), key, []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		results[key+"/"+data] = r
	}
	if err := p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	embedded, err := acct.Stream(shardlog.StreamRef{StreamName: s.Name()})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for rec, err := range embedded.ReadAll(t.Context(), shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range shardlog.Deaggregate(nil, rec) {
			k := u.PartitionKey + "/" + string(u.Data)
			seen[k]++
			if r := results[k]; r != nil && (r.ShardID != u.ShardID || r.SequenceNumber.String() != u.SequenceNumber.String() || r.SubSequenceNumber != u.SubSequenceNumber) {
				t.Fatalf("%s: Result says %s %s/%d, stored at %s %s/%d", k, r.ShardID, r.SequenceNumber, r.SubSequenceNumber, u.ShardID, u.SequenceNumber, u.SubSequenceNumber)
			}
		}
	}
	for k, r := range results {
		if r.Err != nil || seen[k] != 1 {
			t.Fatalf("%s: err %v, stored %d times", k, r.Err, seen[k])
		}
	}
}
