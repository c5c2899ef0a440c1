package autoscale

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/shardlog/shardlog"
)

// Stream is what the autoscaler needs of a stream: its open shards'
// loads, and the calls that reshard it. A *shardlog.Stream is one.
type Stream interface {
	Name() string
	ShardLoads(ctx context.Context) ([]shardlog.ShardLoad, error)
	SplitShard(ctx context.Context, in shardlog.SplitShardInput) (shardlog.SplitShardOutput, error)
	MergeShards(ctx context.Context, in shardlog.MergeShardsInput) (shardlog.MergeShardsOutput, error)
}

var _ Stream = (*shardlog.Stream)(nil)

// Config configures an Autoscaler. The zero value takes the defaults.
type Config struct {
	// Every is how often the autoscaler looks at the stream's loads, which
	// are those of the last full minute. Default 1 minute.
	Every time.Duration
	// SplitAbove is the write utilization (a share of the shard's limit)
	// above which a shard is hot. Default 0.75.
	SplitAbove float64
	// MergeBelow is the write utilization below which a shard is cold; two
	// adjacent cold shards merge. It must be under half SplitAbove, so
	// that a merged shard is not hot: that gap is the hysteresis. Default
	// 0.25.
	MergeBelow float64
	// Sustain is how many looks in a row a shard must be hot, or a pair
	// cold, before it is split or merged: a load that flaps between looks
	// changes nothing. Default 3.
	Sustain int
	// CoolDown is how long the autoscaler waits after a change before the
	// next: the new shards' loads need a full minute to be measured.
	// Default 5 minutes.
	CoolDown time.Duration
	// MaxChangesPerDay bounds the looks that change the stream in a
	// rolling 24 hours. Default 10, UpdateShardCount's quota.
	MaxChangesPerDay int
	// MinShards and MaxShards bound the open shards. Defaults 1 and
	// 10 000. Besides, one look never more than doubles the open shards or
	// halves them, as UpdateShardCount cannot.
	MinShards, MaxShards int
	// Clock is the time the autoscaler looks on. Default: the wall clock.
	Clock shardlog.Clock
	// Logger gets every decision, with its reason. Default: slog's.
	Logger *slog.Logger
}

// ErrBadConfig is the error of a Config out of its bounds.
var ErrBadConfig = errors.New("autoscale: bad config")

func (c Config) withDefaults() (Config, error) {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.SplitAbove, 0.75)
	def(&c.MergeBelow, 0.25)
	if c.Every == 0 {
		c.Every = time.Minute
	}
	if c.Sustain == 0 {
		c.Sustain = 3
	}
	if c.CoolDown == 0 {
		c.CoolDown = 5 * time.Minute
	}
	if c.MaxChangesPerDay == 0 {
		c.MaxChangesPerDay = 10
	}
	if c.MinShards == 0 {
		c.MinShards = 1
	}
	if c.MaxShards == 0 {
		c.MaxShards = 10000
	}
	if c.Clock == nil {
		c.Clock = shardlog.SystemClock()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	switch {
	case c.Every < 0 || c.CoolDown < 0 || c.Sustain < 0 || c.MaxChangesPerDay < 0:
		return c, fmt.Errorf("%w: Every, CoolDown, Sustain and MaxChangesPerDay must not be negative", ErrBadConfig)
	case c.SplitAbove <= 0 || c.MergeBelow < 0 || 2*c.MergeBelow >= c.SplitAbove:
		return c, fmt.Errorf("%w: MergeBelow %g must be under half SplitAbove %g, both positive", ErrBadConfig, c.MergeBelow, c.SplitAbove)
	case c.MinShards < 1 || c.MaxShards < c.MinShards:
		return c, fmt.Errorf("%w: MinShards %d and MaxShards %d", ErrBadConfig, c.MinShards, c.MaxShards)
	}
	return c, nil
}
