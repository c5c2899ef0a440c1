//go:build unix

package agent_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/internal/testchild"
	"github.com/shardlog/shardlog/internal/testsize"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/agent"
)

// TestAgentSurvivesKills runs the agent in a child process, tailing a log
// that the test writes and rotates (renaming it, or copying and truncating
// it) into a durable stream of the child's, and kills the child with
// SIGKILL once it has sent something, again and again; a last child drains
// what is left. Every line written is in the stream, whole, at least once,
// and nothing else is.
func TestAgentSurvivesKills(t *testing.T) {
	if os.Getenv("SHARDLOG_AGENT_DIR") != "" {
		t.Skip("this is the child")
	}
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	written, rotations := 0, 0
	write := func(n int) {
		f, err := os.OpenFile(filepath.Join(logs, "app.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		require.NoError(t, err)
		w := bufio.NewWriter(f)
		for range n {
			fmt.Fprintf(w, "line-%d %s\n", written, strings.Repeat("x", r.IntN(200)))
			written++
		}
		require.NoError(t, w.Flush())
		require.NoError(t, f.Close())
	}
	rotate := func() {
		rotations++
		cur, old := filepath.Join(logs, "app.log"), filepath.Join(logs, fmt.Sprint("app.log.", rotations))
		if r.IntN(2) == 0 {
			require.NoError(t, os.Rename(cur, old)) // logrotate's default: a new file follows
			return
		}
		b, err := os.ReadFile(cur) // copytruncate
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(old, b, 0o644))
		require.NoError(t, os.Truncate(cur, 0))
	}
	child := func(mode string) *testchild.Child {
		return testchild.Start(t, "TestAgentKillChild", "SHARDLOG_AGENT_DIR="+dir, "SHARDLOG_AGENT_MODE="+mode)
	}

	write(100)
	for range testsize.Rounds(t, "SHARDLOG_AGENT_KILLS", 20, 5) {
		c := child("run")
		write(50 + r.IntN(300))
		if r.IntN(3) == 0 {
			rotate()
			write(r.IntN(100))
		}
		// Kill it once it has sent something, at a random one of its next
		// reads (between reading lines and their acknowledgement, or
		// after), writing more lines in between.
		for sent := false; ; {
			line, ok := <-c.Lines
			require.True(t, ok, "the child ended before it was killed")
			sent = sent || strings.HasPrefix(line, "sent ")
			if sent && r.IntN(3) == 0 {
				break
			}
			write(1 + r.IntN(20))
		}
		c.Kill(t, nil)
	}
	require.NoError(t, child("drain").Wait(nil), "the last child drains and exits")

	a, err := shardlog.NewAccount(shardlog.WithDir(filepath.Join(dir, "data")))
	require.NoError(t, err)
	defer a.Close()
	s, err := a.Stream(shardlog.StreamRef{StreamName: "logs"})
	require.NoError(t, err)
	seen := make([]int, written)
	for rec, err := range s.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		require.NoError(t, err)
		line := string(rec.Data)
		require.True(t, strings.HasSuffix(line, "\n"), "a whole line: %.40q", line)
		var n int
		_, err := fmt.Sscanf(line, "line-%d ", &n)
		require.NoError(t, err, "a line that was written: %.40q", line)
		require.Less(t, n, written)
		seen[n]++
	}
	for n, times := range seen {
		require.Positive(t, times, "line-%d was written and is not in the stream", n)
	}
	t.Logf("%d lines, %d rotations", written, rotations)
}

// TestAgentKillChild is TestAgentSurvivesKills's child: it runs the agent
// on the test's directory, printing "read N" as it reads records and
// "sent N" as they are acknowledged;
// in drain mode, it closes the agent once the log's lines are all sent.
func TestAgentKillChild(t *testing.T) {
	dir := os.Getenv("SHARDLOG_AGENT_DIR")
	if dir == "" {
		t.Skip("run by TestAgentSurvivesKills")
	}
	a, err := shardlog.NewAccount(shardlog.WithDir(filepath.Join(dir, "data")), shardlog.WithoutLimits())
	require.NoError(t, err)
	defer a.Close()
	s, err := a.Stream(shardlog.StreamRef{StreamName: "logs"})
	if err != nil {
		s, err = a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "logs", ShardCount: 2})
	}
	require.NoError(t, err)
	cfg, err := agent.ParseConfig([]byte(fmt.Sprintf(`{"checkpointFile": %q, "flows": [{"filePattern": %q,
	  "kinesisStream": "logs", "initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000, "minTimeBetweenFilePollsMillis": 10}]}`,
		filepath.Join(dir, "checkpoints"), filepath.Join(dir, "logs", "app.log*"))))
	require.NoError(t, err)
	ag, err := agent.New(ctx, cfg, func(context.Context, string) (shardlog.StreamAPI, error) { return s, nil }, agent.Options{Logger: quiet})
	require.NoError(t, err)
	read, sent := int64(0), int64(0)
	for {
		require.NoError(t, ag.Poll(ctx))
		tot := ag.Totals()
		if tot.RecordsParsed > read {
			read = tot.RecordsParsed
			fmt.Printf("read %d\n", read)
		}
		if tot.RecordsSent > sent {
			sent = tot.RecordsSent
			fmt.Printf("sent %d\n", sent)
		}
		if os.Getenv("SHARDLOG_AGENT_MODE") == "drain" {
			require.NoError(t, ag.Flush(ctx))
			if ag.Totals().LagBytes == 0 {
				require.NoError(t, ag.Close(ctx))
				return
			}
		}
		time.Sleep(10 * time.Millisecond) // a poll interval, in the child only
	}
}
