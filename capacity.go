package shardlog

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardlog/shardlog/internal/hashkey"
)

// An ON_DEMAND stream scales as AWS documents it (Kinesis Data Streams
// developer guide, "How do I size a stream", and "Quotas and limits"):
//
//   - It starts with 4 shards: 4 MiB/s and 4 000 records/s of writes.
//   - A shard that takes more than about 500 KB/s is split evenly "within
//     15 minutes". shardlog measures each shard of an ON_DEMAND stream over
//     every minute of the account's clock in which the stream is written,
//     and splits at the midpoint, in one reshard, every shard that took more
//     than half its write limit in bytes (AWS's 500 KB/s) or in records (an
//     inference: AWS documents only the bytes) since the last measurement.
//     So the stream takes about twice its peak; a ramp faster than that
//     throttles until the next measurement, as AWS warns it may.
//   - Shards are not merged back: AWS keeps capacity for twice the peak of
//     the previous 30 days and does not document when it scales down.
//   - It grows up to the region's on-demand ceiling (10 GiB/s of writes in
//     us-east-1, us-west-2 and eu-west-1, 200 MiB/s elsewhere: one shard a
//     MiB/s), the account's shard limit and 10 000 shards a stream.
//   - Splitting keeps the stream ACTIVE and does not count against
//     UpdateShardCount's quota; its children list their parent, so readers
//     and groups read the parent first, as after any split.
//   - Per-shard limits still apply: one partition key beyond a shard's
//     limit keeps throttling, as on AWS.

// scaleEvery is how often an ON_DEMAND stream's shards are measured.
const scaleEvery = time.Minute

// scaler measures an ON_DEMAND stream's shards.
type scaler struct {
	due  atomic.Int64 // Unix ns of the next measurement; 0 while PROVISIONED
	mu   sync.Mutex   // one measurement at a time
	last time.Time    // the previous measurement
	seen map[*shard]shardTraffic
}

// shardTraffic is what a shard has taken since it was opened.
type shardTraffic struct{ bytes, records int64 }

// follow measures from now on if mode is ON_DEMAND, and stops measuring
// otherwise.
func (sc *scaler) follow(mode StreamMode, now time.Time) {
	if mode != OnDemand {
		sc.due.Store(0)
		return
	}
	if sc.due.Load() != 0 {
		return // measuring already
	}
	sc.mu.Lock()
	sc.last, sc.seen = now, nil
	sc.mu.Unlock()
	sc.due.Store(now.Add(scaleEvery).UnixNano())
}

// maybeScale measures the stream's shards if a measurement is due, and
// splits the hot ones. Writers call it after they write; it costs an atomic
// load when nothing is due.
func (s *Stream) maybeScale(now time.Time) {
	due := s.scale.due.Load()
	if due == 0 || now.UnixNano() < due || !s.scale.due.CompareAndSwap(due, now.Add(scaleEvery).UnixNano()) {
		return
	}
	s.scaleOnDemand(now)
}

// scaleOnDemand measures every open shard and splits, at its midpoint,
// each that took more than half its write limit since the previous
// measurement, in one reshard that keeps the stream ACTIVE.
func (s *Stream) scaleOnDemand(now time.Time) {
	hot := s.measure(now)
	if len(hot) == 0 {
		return
	}
	var split []string
	err := s.updateFor(context.Background(), 0, func(now time.Time) error {
		if s.settings.mode != OnDemand {
			return errUnchanged
		}
		return s.reshardLocked(now, func(time.Time) (int, func(), error) {
			room := min(s.acct.onDemandCeiling()-s.openTree.Len(), s.acct.cfg.shardLimit-int(s.acct.openShards.Load()))
			var plan []*shard
			for _, sh := range hot {
				if len(plan) < room && !s.closingLocked(sh) && sh.rng.Start.Inc().Inc().Less(sh.rng.End) {
					plan = append(plan, sh)
				}
			}
			if len(plan) == 0 {
				return 0, nil, errUnchanged
			}
			return len(plan), func() {
				for _, sh := range plan {
					s.splitLocked(now, sh, midpoint(sh.rng))
					split = append(split, sh.id)
				}
			}, nil
		})
	})
	switch {
	case err == nil && len(split) > 0:
		s.acct.cfg.log.Info("shardlog: scaled an on-demand stream", "stream", s.name, "split", split)
	case err != nil:
		// Not ACTIVE (a change of the user's is under way), or no room
		// left: the next measurement tries again.
		s.acct.cfg.log.Debug("shardlog: could not scale an on-demand stream", "stream", s.name, "err", err)
	}
}

// measure returns the open shards that took more than half their write
// limit since the previous measurement. It takes no lock of the stream's.
func (s *Stream) measure(now time.Time) []*shard {
	sc := &s.scale
	sc.mu.Lock()
	defer sc.mu.Unlock()
	secs := now.Sub(sc.last).Seconds()
	if secs <= 0 {
		return nil
	}
	seen := map[*shard]shardTraffic{}
	var hot []*shard
	bytesPerSec, recordsPerSec := s.acct.hotLimits()
	for _, sh := range s.openShards() {
		t := sh.traffic()
		seen[sh] = t
		prev, ok := sc.seen[sh]
		if !ok && sh.created.Before(sc.last) {
			continue // open before measuring began: measured from now on
		}
		if float64(t.bytes-prev.bytes)/secs > bytesPerSec || float64(t.records-prev.records)/secs > recordsPerSec {
			hot = append(hot, sh)
		}
	}
	sc.last, sc.seen = now, seen
	return hot
}

// hotLimits returns the write rates past which an ON_DEMAND shard is
// split: half its limits.
func (a *Account) hotLimits() (bytesPerSec, recordsPerSec float64) {
	l := a.shardLimits()
	return float64(l.WriteBytesPerSecond) / 2, float64(l.WriteRecordsPerSecond) / 2
}

// shardLimits returns the per-shard limits that capacity is measured
// against: the account's, with AWS's in place of those it has not
// (WithoutLimits has none).
func (a *Account) shardLimits() Limits {
	l, aws := a.cfg.limits, AWSLimits()
	for _, v := range []struct {
		have *int
		aws  int
	}{
		{&l.WriteBytesPerSecond, aws.WriteBytesPerSecond},
		{&l.WriteRecordsPerSecond, aws.WriteRecordsPerSecond},
		{&l.ReadBytesPerSecond, aws.ReadBytesPerSecond},
	} {
		if *v.have <= 0 {
			*v.have = v.aws
		}
	}
	return l
}

// onDemandCeiling returns the most open shards an ON_DEMAND stream grows
// to: the region's write ceiling at a MiB/s a shard.
func (a *Account) onDemandCeiling() int {
	switch a.cfg.region {
	case "us-east-1", "us-west-2", "eu-west-1":
		return maxShardsPerStream // 10 GiB/s
	}
	return 200
}

// midpoint returns the key that splits r evenly.
func midpoint(r hashkey.Range) hashkey.Key {
	width, _ := r.End.Sub(r.Start)
	half, _ := width.DivUint64(2)
	mid, _ := r.Start.Add(half)
	return mid.Inc()
}

// openShards returns the open shards, by hash key.
func (s *Stream) openShards() []*shard {
	r := s.route.Load()
	out := make([]*shard, 0, r.open)
	r.tree.Ascend(func(it routeItem) bool {
		out = append(out, it.sh)
		return true
	})
	return out
}

// traffic returns what the shard has taken.
func (sh *shard) traffic() shardTraffic {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.taken
}
