//go:build unix

package producer_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/internal/testchild"
	"github.com/shardlog/shardlog/internal/testsize"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/producer"
)

// TestSpoolSurvivesKills runs a child process that puts records through a
// spooled producer into a durable destination that is down half the time,
// and prints each record as Put acknowledges it; the test kills it with
// SIGKILL at a random moment, again and again, then lets a last child drain
// the spool, and finds every acknowledged record at the destination.
func TestSpoolSurvivesKills(t *testing.T) {
	if os.Getenv("SHARDLOG_SPOOL_DIR") != "" {
		t.Skip("this is the child")
	}
	dir := t.TempDir()
	acked := map[int]bool{}
	next := 0
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	child := func(mode string) *testchild.Child {
		return testchild.Start(t, "TestSpoolKillChild", "SHARDLOG_SPOOL_DIR="+dir, "SHARDLOG_SPOOL_MODE="+mode, fmt.Sprint("SHARDLOG_SPOOL_FROM=", next))
	}
	for range testsize.Rounds(t, "SHARDLOG_SPOOL_KILLS", 20, 5) {
		c := child("put")
		want, got := 50+r.IntN(400), 0
		note := func(line string) {
			if n, ok := strings.CutPrefix(line, "ack "); ok {
				i, err := strconv.Atoi(n)
				require.NoError(t, err)
				acked[i] = true
				next = max(next, i+1)
				got++
			}
		}
		for line := range c.Lines {
			if note(line); got >= want {
				break
			}
		}
		c.Kill(t, note) // what it printed before it died counts
	}
	require.NoError(t, child("drain").Wait(nil), "the last child drains the spool")

	dest, err := shardlog.NewAccount(shardlog.WithDir(filepath.Join(dir, "dest")), shardlog.WithoutLimits())
	require.NoError(t, err)
	defer dest.Close()
	s, err := dest.Stream(shardlog.StreamRef{StreamName: "dest"})
	require.NoError(t, err)
	seen := map[int]bool{}
	for rec, err := range s.ReadAll(context.Background(), shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		require.NoError(t, err)
		for _, u := range shardlog.Deaggregate(nil, rec) {
			i, err := strconv.Atoi(string(u.Data))
			require.NoError(t, err)
			seen[i] = true
		}
	}
	for i := range acked {
		require.True(t, seen[i], "acknowledged record %d is not at the destination", i)
	}
	t.Logf("%d kills, %d records acknowledged, all delivered (%d records at the destination)", testsize.Rounds(t, "SHARDLOG_SPOOL_KILLS", 20, 5), len(acked), len(seen))
}

// TestSpoolKillChild is the child of TestSpoolSurvivesKills; it does
// nothing unless started by it.
func TestSpoolKillChild(t *testing.T) {
	dir := os.Getenv("SHARDLOG_SPOOL_DIR")
	if dir == "" {
		t.Skip("started by TestSpoolSurvivesKills only")
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dest, err := shardlog.NewAccount(shardlog.WithDir(filepath.Join(dir, "dest")), shardlog.WithoutLimits(), shardlog.WithLogger(quiet))
	require.NoError(t, err)
	defer dest.Close()
	s, err := dest.Stream(shardlog.StreamRef{StreamName: "dest"})
	if err != nil {
		s, err = dest.CreateStream(context.Background(), shardlog.CreateStreamInput{StreamName: "dest", ShardCount: 2})
	}
	require.NoError(t, err)
	p, err := producer.New(s, producer.Config{SpoolDir: filepath.Join(dir, "spool"), Aggregation: true,
		MaxBufferedTime: 5 * time.Millisecond, Logger: quiet})
	require.NoError(t, err)
	ctx := context.Background()
	if os.Getenv("SHARDLOG_SPOOL_MODE") == "drain" {
		require.NoError(t, p.Close(ctx))
		return
	}
	// The destination is down half the time, in spells of 10 to 40 ms.
	go func() {
		for {
			remove, err := dest.InjectFault(shardlog.Fault{Operation: "PutRecords", Times: -1,
				Err: &shardlog.Error{Code: "InternalFailure", Message: "down", Retryable: true}})
			if err != nil {
				return
			}
			time.Sleep(time.Duration(10+rand.IntN(30)) * time.Millisecond)
			remove()
			time.Sleep(time.Duration(10+rand.IntN(30)) * time.Millisecond)
		}
	}()
	from, err := strconv.Atoi(os.Getenv("SHARDLOG_SPOOL_FROM"))
	require.NoError(t, err)
	for i := from; ; i++ {
		if _, err := p.Put(ctx, fmt.Sprint("k", i%13), []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("ack %d\n", i) // only once Put returned: the record is spooled
	}
}
