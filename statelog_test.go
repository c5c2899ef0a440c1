package shardlog_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
)

// messages is a slog.Handler that keeps each record's message and stream.
type messages struct {
	mu   sync.Mutex
	seen []string
}

func (m *messages) Enabled(context.Context, slog.Level) bool { return true }
func (m *messages) WithAttrs([]slog.Attr) slog.Handler       { return m }
func (m *messages) WithGroup(string) slog.Handler            { return m }
func (m *messages) Handle(_ context.Context, r slog.Record) error {
	stream := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "stream" {
			stream = a.Value.String()
		}
		return true
	})
	m.mu.Lock()
	m.seen = append(m.seen, r.Message+" "+stream)
	m.mu.Unlock()
	return nil
}

// TestStateChangesAreLogged: an account given a logger reports every
// change of a stream's state.
func TestStateChangesAreLogged(t *testing.T) {
	log := &messages{}
	a, clk := newAccount(t, shardlog.WithLogger(slog.New(log)))
	s := newStream(t, a, "s", 2)
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "12345678901234567890"})))
	require.NoError(t, errOf(s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: "shardId-000000000002", AdjacentShardToMerge: "shardId-000000000003"})))
	require.NoError(t, errOf(s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 4, ScalingType: shardlog.UniformScaling})))
	require.NoError(t, s.IncreaseStreamRetentionPeriod(ctx, 48*time.Hour))
	require.NoError(t, s.StartStreamEncryption(ctx, shardlog.EncryptionKMS, "alias/aws/kinesis"))
	c, err := s.RegisterStreamConsumer(ctx, "c")
	require.NoError(t, err)
	require.NoError(t, a.PutResourcePolicy(ctx, s.ARN(), `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"kinesis:DeleteStream","Resource":"*"}}`))
	require.NoError(t, a.DeregisterStreamConsumer(ctx, shardlog.ConsumerRef{ConsumerARN: c.ConsumerARN}))
	clk.Advance(49 * time.Hour) // past the retention period: the closed shards expire
	require.NoError(t, a.ApplyRetention(ctx))
	require.NoError(t, a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "s"}}))
	log.mu.Lock()
	defer log.mu.Unlock()
	for _, want := range []string{
		"shardlog: created a stream s",
		"shardlog: split a shard s",
		"shardlog: merged shards s",
		"shardlog: updated a stream's shard count s",
		"shardlog: changed a stream's retention period s",
		"shardlog: changed a stream's settings s",
		"shardlog: registered a consumer s",
		"shardlog: changed a resource policy ",
		"shardlog: deregistered a consumer s",
		"shardlog: a closed shard expired s",
		"shardlog: deleted a stream s",
	} {
		require.True(t, slices.Contains(log.seen, want), "%q in %q", want, log.seen)
	}
}
