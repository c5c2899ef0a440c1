//go:build unix

package firehose_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/firehose"
	"github.com/shardlog/shardlog/internal/testchild"
	"github.com/shardlog/shardlog/internal/testsize"
)

// TestDeliverySurvivesKills runs a direct-put delivery stream on a durable
// account in a child process that puts numbered records and delivers them
// to a folder, and kills it with SIGKILL at random moments, again and
// again; a last child delivers what is left. Every record a put
// acknowledged is in a delivered object, whole, at least once.
func TestDeliverySurvivesKills(t *testing.T) {
	if os.Getenv("SHARDLOG_FIREHOSE_DIR") != "" {
		t.Skip("this is the child")
	}
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 27))
	acked := map[string]bool{}
	child := func(mode string) *testchild.Child {
		return testchild.Start(t, "TestDeliveryKillChild", "SHARDLOG_FIREHOSE_DIR="+dir, "SHARDLOG_FIREHOSE_MODE="+mode)
	}
	note := func(line string) {
		if id, ok := strings.CutPrefix(line, "acked "); ok {
			acked[id] = true
		}
	}
	for round := range testsize.Rounds(t, "SHARDLOG_FIREHOSE_KILLS", 20, 5) {
		c := child(fmt.Sprint("put-", round))
		for n := 0; ; n++ {
			line, ok := <-c.Lines
			require.True(t, ok, "the child ended before it was killed")
			if note(line); n > 20 && r.IntN(40) == 0 {
				break
			}
		}
		c.Kill(t, note) // acknowledged before the kill landed
	}
	require.NoError(t, child("drain").Wait(nil), "the last child delivers everything and exits")

	delivered := map[string]int{}
	for key, body := range objects(t, filepath.Join(dir, "bucket")) {
		require.True(t, strings.HasPrefix(key, "out/"), key)
		for _, rec := range strings.SplitAfter(string(body), "\n") {
			if rec == "" {
				continue
			}
			require.Regexp(t, `^rec-\d+-\d+ x+\n$`, rec, "a whole record")
			id, _, _ := strings.Cut(rec, " ")
			delivered[id]++
		}
	}
	for id := range acked {
		require.Positive(t, delivered[id], "%s was acknowledged and never delivered", id)
	}
	require.NotEmpty(t, acked)
	t.Logf("%d records acknowledged, %d delivered (duplicates included: %d)", len(acked), len(delivered), func() int {
		n := 0
		for _, c := range delivered {
			n += c
		}
		return n
	}())
}

// TestDeliveryKillChild is TestDeliverySurvivesKills's child: it puts
// records and prints "acked <id>" for each one PutRecordBatch took, while
// delivering; in drain mode it delivers until nothing is left, then
// stops.
func TestDeliveryKillChild(t *testing.T) {
	dir := os.Getenv("SHARDLOG_FIREHOSE_DIR")
	if dir == "" {
		t.Skip("run by TestDeliverySurvivesKills")
	}
	acct, err := shardlog.NewAccount(shardlog.WithDir(filepath.Join(dir, "data")), shardlog.WithoutLimits(), shardlog.WithLogger(quiet))
	require.NoError(t, err)
	defer acct.Close()
	s, err := acct.Stream(shardlog.StreamRef{StreamName: "backing"})
	if err != nil {
		s, err = acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "backing", ShardCount: 2})
	}
	require.NoError(t, err)
	d, err := firehose.New(firehose.Config{Name: "orders", Source: s, DirectPut: true, Logger: quiet,
		Destination: firehose.Dir(filepath.Join(dir, "bucket")), Prefix: "out/",
		Buffering: firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 0}})
	require.NoError(t, err)
	run, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(run) }()

	mode := os.Getenv("SHARDLOG_FIREHOSE_MODE")
	if mode == "drain" {
		// Everything the stream holds is delivered once the group's
		// checkpoints reach each shard's end.
		for !drained(t, s) {
			time.Sleep(10 * time.Millisecond) // the child's poll, in real time
		}
		stop()
		require.NoError(t, <-done)
		return
	}
	for i := 0; ; i++ {
		var batch [][]byte
		var ids []string
		for j := range 1 + i%20 {
			id := fmt.Sprintf("rec-%s-%d", strings.TrimPrefix(mode, "put-"), i*100+j)
			ids = append(ids, id)
			batch = append(batch, []byte(id+" "+strings.Repeat("x", 1+(i*7+j)%300)+"\n"))
		}
		out, err := d.PutRecordBatch(ctx, batch)
		require.NoError(t, err)
		for k, e := range out.RequestResponses {
			if e.ErrorCode == "" {
				fmt.Printf("acked %s\n", ids[k])
			}
		}
	}
}

// drained reports whether the delivery stream's group has checkpointed
// every shard of s at its last record.
func drained(t *testing.T, s *shardlog.Stream) bool {
	groups, err := s.DescribeGroup(ctx, "firehose-orders", nil)
	if err != nil {
		return false
	}
	for _, g := range groups {
		if g.RecordsBehind != 0 {
			return false
		}
	}
	return len(groups) > 0
}
