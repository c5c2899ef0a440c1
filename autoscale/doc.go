// Package autoscale splits hot shards and merges cold ones of a
// PROVISIONED stream, as a user of Kinesis would by hand: Kinesis scales
// only ON_DEMAND streams (shardlog too, see shardlog.OnDemand).
//
// It reads each open shard's load of the last full minute
// (shardlog.Stream.ShardLoads) and splits a shard that stays hot at the
// hash key that halves its traffic, not at its midpoint, so that a skewed
// key distribution is balanced; it merges adjacent shards that stay cold.
// Hysteresis (a merged shard is never hot), a streak of looks before each
// change, a cool-down after it, and bounds on the changes a day and the
// shards keep it from flapping and within UpdateShardCount's rules; every
// decision is logged with its reason and kept (Autoscaler.Decisions), and
// counted (Autoscaler.Totals).
//
// It works through the Stream interface, which a *shardlog.Stream
// satisfies: the same autoscaler runs on an embedded stream, and on any
// other implementation that reports shard loads.
package autoscale
