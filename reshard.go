package shardlog

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/shardlog/shardlog/internal/hashkey"
)

// scalingLimitError is the exception UpdateShardCount gives for a target
// outside what the stream may scale to (above 2x, below half, above 10000
// shards). AWS documents the limits but not the exception; LimitExceeded is
// what clients of AWS handle for the same call's rolling 24-hour quota.
var scalingLimitError = ErrLimitExceeded

const (
	maxShardsPerStream = 10000
	scalingOpsPerDay   = 10
)

// SplitShard splits an open shard in two at newStartingHashKey: the shard
// closes (it stays readable), and two children take [start, key-1] and
// [key, end] with the next unused shard indexes. Every sequence number of a
// child exceeds every number of its parent. The stream is UPDATING for the
// configured update delay. Closing the parent copies no records.
//
// Errors: ErrResourceInUse unless the stream is ACTIVE, ErrResourceNotFound
// if the shard does not exist or is closed, ErrInvalidArgument unless
// start+1 < key < end, ErrLimitExceeded past the account's shard limit.
func (s *Stream) SplitShard(ctx context.Context, shardToSplit, newStartingHashKey string) error {
	if err := checkShardID("shardToSplit", shardToSplit); err != nil {
		return err
	}
	key, err := parseHashKeyArg("newStartingHashKey", newStartingHashKey)
	if err != nil {
		return err
	}
	return s.reshard(ctx, func(now time.Time) error {
		sh, err := s.openShardLocked(shardToSplit)
		if err != nil {
			return err
		}
		low := sh.rng.Start.Inc()
		if !low.Less(key) || !key.Less(sh.rng.End) || sh.rng.Start == hashkey.Max {
			return newError(ErrInvalidArgument,
				"NewStartingHashKey %s used in SplitShard() on shard %s in stream %s under account %s is not both greater than one plus the shard's StartingHashKey %s and less than the shard's EndingHashKey %s.",
				newStartingHashKey, sh.id, s.name, s.acct.cfg.accountID, sh.rng.Start, sh.rng.End)
		}
		if err := s.acct.checkShardLimit(1); err != nil {
			return err
		}
		s.splitLocked(now, sh, key)
		return nil
	})
}

// MergeShards merges two open shards whose hash ranges are adjacent (in
// either order) into one child with ParentShardId shardToMerge and
// AdjacentParentShardId adjacentShardToMerge. Both parents close and stay
// readable.
//
// Errors: ErrResourceInUse unless the stream is ACTIVE, ErrResourceNotFound
// if a shard does not exist or is closed, ErrInvalidArgument if the ranges
// are not adjacent.
func (s *Stream) MergeShards(ctx context.Context, shardToMerge, adjacentShardToMerge string) error {
	if err := checkShardID("shardToMerge", shardToMerge); err != nil {
		return err
	}
	if err := checkShardID("adjacentShardToMerge", adjacentShardToMerge); err != nil {
		return err
	}
	return s.reshard(ctx, func(now time.Time) error {
		a, err := s.openShardLocked(shardToMerge)
		if err != nil {
			return err
		}
		b, err := s.openShardLocked(adjacentShardToMerge)
		if err != nil {
			return err
		}
		if !adjacent(a.rng, b.rng) && !adjacent(b.rng, a.rng) {
			return newError(ErrInvalidArgument, "Shards %s and %s in stream %s under account %s are not an adjacent pair of shards eligible for merging",
				a.id, b.id, s.name, s.acct.cfg.accountID)
		}
		s.mergeLocked(now, a, b)
		return nil
	})
}

// adjacent reports whether b starts right after a ends.
func adjacent(a, b hashkey.Range) bool {
	return a.End != hashkey.Max && a.End.Inc() == b.Start
}

// ScalingType is how UpdateShardCount reshapes a stream.
type ScalingType string

// UniformScaling is the only scaling type: the open shards end up splitting
// the hash space evenly.
const UniformScaling ScalingType = "UNIFORM_SCALING"

// UpdateShardCountOutput is the result of UpdateShardCount.
type UpdateShardCountOutput struct {
	StreamName        string
	StreamARN         string
	CurrentShardCount int
	TargetShardCount  int
}

// UpdateShardCount reshapes the stream into target open shards that split
// the hash space evenly, as CreateStream would. It gets there by splits and
// then merges, so every new shard has at most two parents
// (ParentShardId, AdjacentParentShardId) and readers that follow ChildShards
// never dead-end; intermediate shards appear, closed, in ListShards, as they
// do on AWS. scaling must be UNIFORM_SCALING (the zero value means it).
//
// Errors: ErrValidation for a target below 1 or another scaling type;
// ErrResourceInUse unless the stream is ACTIVE; ErrLimitExceeded for a
// target above twice or below half the open shard count, above 10000, past
// the account's shard limit, or after 10 calls in a rolling 24 hours.
func (s *Stream) UpdateShardCount(ctx context.Context, target int, scaling ScalingType) (UpdateShardCountOutput, error) {
	if target < 1 {
		return UpdateShardCountOutput{}, validation("targetShardCount", strconv.Itoa(target), "have value greater than or equal to 1")
	}
	if scaling == "" {
		scaling = UniformScaling
	}
	if scaling != UniformScaling {
		return UpdateShardCountOutput{}, validation("scalingType", string(scaling), "satisfy enum value set: [UNIFORM_SCALING]")
	}
	var current int
	err := s.reshard(ctx, func(now time.Time) error {
		current = s.openShardCount()
		account := s.acct.cfg.accountID
		switch {
		case target > 2*current:
			return newError(scalingLimitError, "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: %d Target shard count: %d", current, target)
		case 2*target < current:
			return newError(scalingLimitError, "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: %d Target shard count: %d", current, target)
		case target > maxShardsPerStream:
			return newError(scalingLimitError, "UpdateShardCount cannot scale up over %d shards in stream %s under account %s.", maxShardsPerStream, s.name, account)
		}
		recent := 0
		for _, t := range s.scalingOps {
			if now.Sub(t) < 24*time.Hour {
				recent++
			}
		}
		if recent >= scalingOpsPerDay {
			return newError(ErrLimitExceeded, "Exceeded the limit of %d UpdateShardCount operations in a rolling 24-hour period for stream %s under account %s.", scalingOpsPerDay, s.name, account)
		}
		if err := s.acct.checkShardLimit(target - current); err != nil {
			return err
		}
		s.scalingOps = append(slices.DeleteFunc(s.scalingOps, func(t time.Time) bool { return now.Sub(t) >= 24*time.Hour }), now)
		s.uniformLocked(now, hashkey.Uniform(target))
		return nil
	})
	if err != nil {
		return UpdateShardCountOutput{}, err
	}
	return UpdateShardCountOutput{StreamName: s.name, StreamARN: s.arn, CurrentShardCount: current, TargetShardCount: target}, nil
}

// reshard runs change with the stream locked after checking it is ACTIVE;
// if change succeeds it publishes the new open shards, closes the shards it
// replaced, and marks the stream UPDATING for the update delay.
func (s *Stream) reshard(ctx context.Context, change func(now time.Time) error) error {
	now, err := s.enter(ctx)
	if err != nil {
		return err
	}
	// The account lock first (the shard limit counts every stream), then ours.
	s.acct.mu.RLock()
	defer s.acct.mu.RUnlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.statusAt(now); st != StatusActive {
		if st == statusGone {
			return s.acct.notFound(s.name)
		}
		return newError(ErrResourceInUse, "Stream %s under account %s not ACTIVE, instead in state %s", s.name, s.acct.cfg.accountID, st)
	}
	if s.settings.mode == OnDemand {
		return newError(ErrValidation, "Resharding is not supported for stream %s under account %s in ON_DEMAND mode.", s.name, s.acct.cfg.accountID)
	}
	s.expireShardsLocked(now) // forget expired closed shards while the lock is held
	s.pending = s.pending[:0]
	old := s.route.Load().shards()
	born := len(s.shards)
	if err := change(now); err != nil {
		for _, c := range s.pending {
			c.sh.retiring = false
		}
		s.shards = s.shards[:born] // drop the children of a failed change
		s.pending = s.pending[:0]
		return err
	}
	var open []*shard
	for _, sh := range append(old, s.shards[born:]...) {
		if !sh.retiring {
			open = append(open, sh)
		}
	}
	// Publish the new routes before closing the parents: a Put that finds
	// its shard closed reloads the router and must see the children.
	s.route.Store(newRouter(open))
	for _, c := range s.pending {
		c.sh.close(now, c.children)
	}
	s.pending = s.pending[:0]
	t := *s.times.Load()
	t.updating = now.Add(s.acct.cfg.delays.Update)
	s.times.Store(&t)
	return nil
}

// closing is a shard that a reshard closes once the new routes are out.
type closing struct {
	sh       *shard
	children []*shard
}

// openShardLocked returns the open shard with the given ID. s.mu is held.
func (s *Stream) openShardLocked(id string) (*shard, error) {
	i, ok := parseShardIndex(id)
	if ok && int(i) < len(s.shards) && s.shards[i] != nil && !s.closingLocked(s.shards[i]) {
		return s.shards[i], nil
	}
	return nil, newError(ErrResourceNotFound, "Could not find shard %s in stream %s under account %s.", id, s.name, s.acct.cfg.accountID)
}

// closingLocked reports whether sh is closed or about to be. s.mu is held.
func (s *Stream) closingLocked(sh *shard) bool {
	return sh.closed.Load() || sh.retiring
}

// splitLocked splits sh at key (start < key <= end) and returns the
// children. s.mu is held.
func (s *Stream) splitLocked(now time.Time, sh *shard, key hashkey.Key) (lo, hi *shard) {
	lo = s.addShardLocked(now, hashkey.Range{Start: sh.rng.Start, End: key.Dec()}, sh.id, "")
	hi = s.addShardLocked(now, hashkey.Range{Start: key, End: sh.rng.End}, sh.id, "")
	s.retire(sh, lo, hi)
	return lo, hi
}

// mergeLocked merges two adjacent shards and returns the child. s.mu is held.
func (s *Stream) mergeLocked(now time.Time, sh, adjacent *shard) *shard {
	r := hashkey.Range{Start: sh.rng.Start, End: adjacent.rng.End}
	if adjacent.rng.Start.Less(sh.rng.Start) {
		r = hashkey.Range{Start: adjacent.rng.Start, End: sh.rng.End}
	}
	child := s.addShardLocked(now, r, sh.id, adjacent.id)
	s.retire(sh, child)
	s.retire(adjacent, child)
	return child
}

// retire schedules sh to close once the reshard publishes its children.
func (s *Stream) retire(sh *shard, children ...*shard) {
	sh.retiring = true
	s.pending = append(s.pending, closing{sh, children})
}

func (s *Stream) addShardLocked(now time.Time, r hashkey.Range, parent, adjacent string) *shard {
	sh := newShard(s, uint32(len(s.shards)), r, now)
	sh.parent, sh.adjacent = parent, adjacent
	s.shards = append(s.shards, sh)
	return sh
}

// uniformLocked reshapes the open shards into the target ranges: first it
// splits every open shard that a target boundary cuts, then it merges, left
// to right, the shards that make up each target range. s.mu is held.
func (s *Stream) uniformLocked(now time.Time, target []hashkey.Range) {
	open := s.route.Load().shards() // a copy, in hash order
	slices.SortFunc(open, func(a, b *shard) int { return a.rng.Start.Cmp(b.rng.Start) })

	var cut []*shard // open shards after the splits, in hash order
	b := 1           // the next target boundary: target[b].Start
	for _, sh := range open {
		for b < len(target) && !sh.rng.Start.Less(target[b].Start) {
			b++ // a boundary at or before this shard's start needs no split
		}
		for b < len(target) && !sh.rng.End.Less(target[b].Start) {
			var lo *shard
			lo, sh = s.splitLocked(now, sh, target[b].Start)
			cut = append(cut, lo)
			b++
		}
		cut = append(cut, sh)
	}
	i := 0
	for _, t := range target {
		acc := cut[i]
		for i++; i < len(cut) && !t.End.Less(cut[i].rng.Start); i++ {
			acc = s.mergeLocked(now, acc, cut[i])
		}
	}
}

// checkShardLimit reports whether the account can take more open shards.
// a.mu is held (for reading at least).
func (a *Account) checkShardLimit(more int) error {
	if more <= 0 {
		return nil
	}
	open := a.openShardsLocked()
	if open+more > a.cfg.shardLimit {
		return a.shardLimitError(open, more)
	}
	return nil
}

// parseHashKeyArg parses a decimal hash key argument.
func parseHashKeyArg(member, v string) (hashkey.Key, error) {
	if !validHashKeyText(v) {
		return hashkey.Key{}, validation(member, v, "satisfy regular expression pattern: 0|([1-9]\\d{0,38})")
	}
	k, err := hashkey.Parse(v)
	if err != nil {
		return hashkey.Key{}, newError(ErrInvalidArgument, "%s %s is not in the range [0, 2^128-1].", member, v)
	}
	return k, nil
}

func validHashKeyText(v string) bool {
	return v != "" && len(v) <= 39 && allDigits(v) && (v[0] != '0' || len(v) == 1)
}
