package firehose

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
)

// TestBufferGrowsWithTraffic: a quiet shard's buffer holds about its
// records, not the size hint; a busy one's is made at the hint at once.
func TestBufferGrowsWithTraffic(t *testing.T) {
	acct, err := shardlog.NewAccount(shardlog.WithClock(shardlog.NewManualClock(time.Unix(0, 0))), shardlog.WithoutLimits())
	if err != nil {
		t.Fatal(err)
	}
	defer acct.Close()
	s, err := acct.CreateStream(context.Background(), shardlog.CreateStreamInput{StreamName: "s", ShardCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Name: "d", Source: s, DirectPut: true, Destination: Dir(t.TempDir()),
		Buffering: BufferingHints{SizeInMBs: 8, IntervalInSeconds: 60}})
	if err != nil {
		t.Fatal(err)
	}
	records := func(n, size int) []shardlog.UserRecord {
		out := make([]shardlog.UserRecord, n)
		for i := range out {
			out[i].Data = []byte(strings.Repeat("x", size))
		}
		return out
	}
	b := &shardBuffer{d: d, run: context.Background()}
	if err := b.ProcessRecords(context.Background(), shardlog.ProcessRecordsInput{UserRecords: records(3, 100)}); err != nil {
		t.Fatal(err)
	}
	if c := cap(b.buf); c > 4<<10 {
		t.Fatalf("a quiet shard's buffer holds %d bytes for 303", c)
	}
	if err := b.ProcessRecords(context.Background(), shardlog.ProcessRecordsInput{UserRecords: records(2000, 1000)}); err != nil {
		t.Fatal(err)
	}
	if c, want := cap(b.buf), 10<<20; c != want {
		t.Fatalf("a busy shard's buffer holds %d bytes, want the hint and a quarter, %d", c, want)
	}
}
