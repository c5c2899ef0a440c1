package agent_test

import (
	"context"

	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/agent"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	ctx   = context.Background()
	quiet = slog.New(slog.DiscardHandler)
	start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// rig is an agent tailing dir/app.log* into an embedded stream.
type rig struct {
	t      *testing.T
	dir    string
	clk    *shardlog.ManualClock
	stream *shardlog.Stream
	agent  *agent.Agent
	cfg    agent.Config
}

func newRig(t *testing.T, config string) *rig {
	t.Helper()
	dir := t.TempDir()
	clk := shardlog.NewManualClock(start)
	acct, err := shardlog.NewAccount(shardlog.WithClock(clk))
	require.NoError(t, err)
	t.Cleanup(func() { acct.Close() })
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "logs", ShardCount: 2})
	require.NoError(t, err)
	config = strings.ReplaceAll(config, "DIR", dir)
	cfg, err := agent.ParseConfig([]byte(config))
	require.NoError(t, err)
	r := &rig{t: t, dir: dir, clk: clk, stream: s, cfg: cfg}
	r.start()
	return r
}

// start starts an agent (again), resuming from the checkpoints.
func (r *rig) start() {
	r.t.Helper()
	a, err := agent.New(ctx, r.cfg, func(_ context.Context, name string) (shardlog.StreamAPI, error) {
		require.Equal(r.t, "logs", name)
		return r.stream, nil
	}, agent.Options{Clock: r.clk, Logger: quiet})
	require.NoError(r.t, err)
	r.agent = a
	r.t.Cleanup(func() { a.Close(ctx) })
}

// poll lets a poll interval pass and polls.
func (r *rig) poll() {
	r.t.Helper()
	r.clk.Advance(time.Second)
	require.NoError(r.t, r.agent.Poll(ctx))
}

// sync polls and waits for everything read to be acknowledged, moving the
// clock on a little meanwhile: the producer may wait for its rate limit.
func (r *rig) sync() {
	r.t.Helper()
	r.poll()
	done := make(chan error, 1)
	go func() { done <- r.agent.Flush(ctx) }()
	for {
		select {
		case err := <-done:
			require.NoError(r.t, err)
			return
		default:
			r.clk.Advance(time.Millisecond)
			runtime.Gosched()
		}
	}
}

func (r *rig) path(name string) string { return filepath.Join(r.dir, name) }

func (r *rig) write(name, text string) {
	r.t.Helper()
	f, err := os.OpenFile(r.path(name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(r.t, err)
	_, err = f.WriteString(text)
	require.NoError(r.t, err)
	require.NoError(r.t, f.Close())
}

// lines returns every record in the stream, as text.
func (r *rig) lines() []string {
	r.t.Helper()
	var out []string
	for rec, err := range r.stream.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		require.NoError(r.t, err)
		out = append(out, string(rec.Data))
	}
	return out
}

const basic = `{
  "checkpointFile": "DIR/checkpoints",
  "flows": [{"filePattern": "DIR/app.log", "kinesisStream": "logs", "initialPosition": "START_OF_FILE",
             "maxBufferAgeMillis": 1000}]
}`

// TestTailsThroughRotation: lines are sent once each through logrotate's
// ways: rename and create, copytruncate, deletion, and a new file.
func TestTailsThroughRotation(t *testing.T) {
	r := newRig(t, basic)
	r.write("app.log", "a1\na2\n")
	r.sync()
	require.ElementsMatch(t, []string{"a1\n", "a2\n"}, r.lines())

	// Rename and create: the old file is drained, the new one read whole.
	r.write("app.log", "a3\n")
	require.NoError(t, os.Rename(r.path("app.log"), r.path("app.log.1")))
	r.write("app.log.1", "a4\n") // written by a process that still has it open
	r.write("app.log", "b1\n")
	r.sync()
	r.sync() // the old file is let go once drained
	require.ElementsMatch(t, []string{"a1\n", "a2\n", "a3\n", "a4\n", "b1\n"}, r.lines())

	// Copytruncate: the copy is not tailed; the file is read from its start.
	b, err := os.ReadFile(r.path("app.log"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(r.path("app.log.2"), b, 0o644))
	require.NoError(t, os.Truncate(r.path("app.log"), 0))
	r.write("app.log", "c1\n")
	r.sync()
	require.ElementsMatch(t, []string{"a1\n", "a2\n", "a3\n", "a4\n", "b1\n", "c1\n"}, r.lines())

	// Deleted, then made again.
	require.NoError(t, os.Remove(r.path("app.log")))
	r.sync()
	r.write("app.log", "d1\n")
	r.sync()
	require.ElementsMatch(t, []string{"a1\n", "a2\n", "a3\n", "a4\n", "b1\n", "c1\n", "d1\n"}, r.lines())
	require.Equal(t, int64(7), r.agent.Totals().RecordsSent)
	require.Zero(t, r.agent.Totals().LagBytes)
}

// TestUnfinishedLineWaits: a last line without its newline waits for it,
// for five seconds at most.
func TestUnfinishedLineWaits(t *testing.T) {
	r := newRig(t, basic)
	r.write("app.log", "par")
	r.sync()
	require.Empty(t, r.lines())
	r.write("app.log", "tial\nnext")
	r.sync()
	require.Equal(t, []string{"partial\n"}, r.lines())
	r.clk.Advance(5 * time.Second)
	r.sync()
	require.ElementsMatch(t, []string{"partial\n", "next"}, r.lines())
}

// TestResumesFromItsCheckpoint: a restarted agent sends only what the last
// one did not, including the rest of a file rotated away meanwhile.
func TestResumesFromItsCheckpoint(t *testing.T) {
	r := newRig(t, basic)
	r.write("app.log", "a1\na2\n")
	r.sync()
	require.NoError(t, r.agent.Close(ctx))

	r.write("app.log", "a3\n")
	require.NoError(t, os.Rename(r.path("app.log"), r.path("app.log.1")))
	r.write("app.log", "b1\n")
	r.start()
	r.sync()
	r.sync()
	require.ElementsMatch(t, []string{"a1\n", "a2\n", "a3\n", "b1\n"}, r.lines(), "each once")
}

// TestTruncatedWhileStoppedAfterStartingEmpty: a file found empty (as
// one is just after a rotation) is still told apart from what replaces its
// content: the fingerprint grows with what is read, so a copytruncate
// while the agent is stopped, refilled past the checkpoint with other
// lines, is read from its start, not from the old offset.
func TestTruncatedWhileStoppedAfterStartingEmpty(t *testing.T) {
	r := newRig(t, basic)
	r.write("app.log", "")
	r.sync()
	r.write("app.log", "a1\na2\n")
	r.sync()
	require.NoError(t, r.agent.Close(ctx))

	require.NoError(t, os.Truncate(r.path("app.log"), 0))
	r.write("app.log", "b1\nb2\nb3\n")
	r.start()
	r.sync()
	require.ElementsMatch(t, []string{"a1\n", "a2\n", "b1\n", "b2\n", "b3\n"}, r.lines())
}

// TestFilesShowTheirLag: Files says, for each file, how far it is
// acknowledged and how many bytes are behind.
func TestFilesShowTheirLag(t *testing.T) {
	r := newRig(t, basic)
	r.write("app.log", "a1\nb22\n")
	r.poll() // read and sent, not yet acknowledged: the producer lingers
	require.Equal(t, []agent.FileStatus{{Stream: "logs", Path: r.path("app.log"), Size: 7, Acked: 0, LagBytes: 7}}, r.agent.Files())
	require.Equal(t, int64(7), r.agent.Totals().LagBytes)
	r.sync()
	require.Equal(t, []agent.FileStatus{{Stream: "logs", Path: r.path("app.log"), Size: 7, Acked: 7, LagBytes: 0}}, r.agent.Files())
}

// TestEndOfFileByDefault: files there when the agent starts are read from
// their end; files that appear later, from their start.
func TestEndOfFileByDefault(t *testing.T) {
	r := newRig(t, strings.Replace(basic, `"initialPosition": "START_OF_FILE",`, "", 1))
	r.write("app.log", "old\n")
	r.agent.Close(ctx)
	os.Remove(r.path("checkpoints"))
	r.start()
	r.sync()
	r.write("app.log", "new\n")
	r.sync()
	require.Equal(t, []string{"new\n"}, r.lines())
}

// TestRecordsAsConfigured: header lines skipped, multi-line records, and a
// line longer than any record cut, with its terminator, the rest passed
// over.
func TestRecordsAsConfigured(t *testing.T) {
	r := newRig(t, `{"checkpointFile": "DIR/checkpoints", "flows": [{"filePattern": "DIR/app.log", "kinesisStream": "logs",
	  "initialPosition": "START_OF_FILE", "skipHeaderLines": 1, "multiLineStartPattern": "^\\d",
	  "truncatedRecordTerminator": "<cut>\n"}]}`)
	long := strings.Repeat("x", 2<<20)
	r.write("app.log", "header\n1 error\n  at a\n  at b\n2 fine\n3 "+long+"\n4 last\n")
	for range 4 { // read over polls; the last record has no next line to end it
		r.sync()
		r.clk.Advance(5 * time.Second)
	}
	r.sync()
	var short []string
	cut := ""
	for _, l := range r.lines() {
		if len(l) > 100 {
			require.Empty(t, cut, "one long record")
			cut = l
			continue
		}
		short = append(short, l)
	}
	require.ElementsMatch(t, []string{"1 error\n  at a\n  at b\n", "2 fine\n", "4 last\n"}, short)
	require.Equal(t, 1<<20-64, len(cut))
	require.True(t, strings.HasPrefix(cut, "3 xxx"))
	require.True(t, strings.HasSuffix(cut, "x<cut>\n"))
}

// TestDeterministicPartitionKeys: DETERMINISTIC keys are the record's MD5.
func TestDeterministicPartitionKeys(t *testing.T) {
	r := newRig(t, strings.Replace(basic, `"kinesisStream": "logs",`, `"kinesisStream": "logs", "partitionKeyOption": "DETERMINISTIC",`, 1))
	r.write("app.log", "hello\n")
	r.sync()
	for rec, err := range r.stream.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		require.NoError(t, err)
		require.Equal(t, "b1946ac92492d2347c6235b4d2611184", rec.PartitionKey) // md5 of "hello\n"
	}
}

// TestConfigRefusals: unknown keys and bad values are refused, naming them.
func TestConfigRefusals(t *testing.T) {
	for config, want := range map[string]string{
		`{"flows": [{"filePattern": "/x", "kinesisStream": "s", "fileFooterPatern": "x"}]}`:                     `unknown field "fileFooterPatern"`,
		`{"flows": [{"filePattern": "/x"}]}`:                                                                    "kinesisStream is required",
		`{"flows": [{"kinesisStream": "s"}]}`:                                                                   "filePattern is required",
		`{"flows": []}`:                                                                                         "no flows",
		`{"flows": [{"filePattern": "/x", "kinesisStream": "s", "partitionKeyOption": "HASH"}]}`:                `partitionKeyOption "HASH"`,
		`{"flows": [{"filePattern": "/x", "kinesisStream": "s", "initialPosition": "MIDDLE"}]}`:                 `initialPosition "MIDDLE"`,
		`{"flows": [{"filePattern": "/x", "kinesisStream": "s", "maxBufferAgeMillis": 10}]}`:                    "maxBufferAgeMillis 10 is outside [1000, 900000]",
		`{"flows": [{"filePattern": "/x", "kinesisStream": "s", "maxBufferSizeRecords": 501}]}`:                 "maxBufferSizeRecords 501 is outside [1, 500]",
		`{"flows": [{"filePattern": "/x", "kinesisStream": "s", "multiLineStartPattern": "("}]}`:                "multiLineStartPattern",
		`{"flows": [{"filePattern": "/x[", "kinesisStream": "s"}]}`:                                             "filePattern",
		`{"flows": [{"filePattern": "/x", "kinesisStream": "s"}, {"filePattern": "/x", "kinesisStream": "s"}]}`: "a second flow",
		`not json`: "invalid character",
	} {
		_, err := agent.ParseConfig([]byte(config))
		require.ErrorIs(t, err, agent.ErrConfig, config)
		require.ErrorContains(t, err, want, config)
	}
	cfg, err := agent.ParseConfig([]byte(`{"flows": [{"filePattern": "/x", "kinesisStream": "s"}]}`))
	require.NoError(t, err)
	f := cfg.Flows[0]
	require.Equal(t, "RANDOM", f.PartitionKeyOption)
	require.Equal(t, "END_OF_FILE", f.InitialPosition)
	require.Equal(t, 60000, f.MaxBufferAgeMillis)
	require.Equal(t, 500, f.MaxBufferSizeRecords)
	require.Equal(t, 5242880, f.MaxBufferSizeBytes)
	require.Equal(t, "\n", *f.TruncatedRecordTerminator)

}

// gatedStream holds every PutBatch until open is closed.
type gatedStream struct {
	shardlog.StreamAPI
	open chan struct{}
}

func (g gatedStream) PutBatch(ctx context.Context, recs []shardlog.PutInput) (shardlog.PutBatchOutput, error) {
	select {
	case <-g.open:
	case <-ctx.Done():
		return shardlog.PutBatchOutput{}, ctx.Err()
	}
	return g.StreamAPI.PutBatch(ctx, recs)
}

// TestReadsAtTheStreamsPace: while the stream acknowledges nothing, the
// agent reads no further than 16 MiB (and a poll's reads) past what is
// acknowledged, however large the backlog; then it goes on.
func TestReadsAtTheStreamsPace(t *testing.T) {
	r := newRig(t, basic)
	require.NoError(t, r.agent.Close(ctx))
	g := gatedStream{StreamAPI: r.stream, open: make(chan struct{})}
	a, err := agent.New(ctx, r.cfg, func(context.Context, string) (shardlog.StreamAPI, error) { return g, nil },
		agent.Options{Clock: r.clk, Logger: quiet, RateLimit: -1})
	require.NoError(t, err)
	t.Cleanup(func() { a.Close(ctx) })
	line := strings.Repeat("x", 10<<10-1) + "\n"
	r.write("app.log", strings.Repeat(line, 4000)) // 40 MiB
	for range 20 {
		r.clk.Advance(time.Second)
		require.NoError(t, a.Poll(ctx))
	}
	read := a.Totals().RecordsParsed * int64(len(line))
	require.Greater(t, read, int64(8<<20))
	require.LessOrEqual(t, read, int64(17<<20), "read ahead of the acknowledgements")

	close(g.open)
	r.agent = a
	for a.Totals().RecordsSent < 4000 {
		r.sync()
	}
	require.Len(t, r.lines(), 4000)
}
