package shardlog

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/shardlog/shardlog/internal/hashkey"
)

// SplitShardInput is SplitShard's input.
type SplitShardInput struct {
	ShardToSplit       string
	NewStartingHashKey string // the first hash key of the upper child
}

// SplitShardOutput names the children SplitShard made (Kinesis's answer is
// empty).
type SplitShardOutput struct {
	ChildShardIDs []string // the lower half's first
}

// SplitShard splits an open shard in two at in.NewStartingHashKey: the
// shard closes (it stays readable), and two children take [start, key-1]
// and [key, end] with the next unused shard indexes. Every sequence number
// of a child exceeds every number of its parent. The stream is UPDATING
// for the configured update delay. Closing the parent copies no records.
// ([HashKeyRange.Midpoint] is the key that halves a shard.)
//
// Errors, in the order Kinesis checks: ErrValidation for a malformed
// argument, ErrResourceNotFound if the shard does not exist or is closed,
// ErrLimitExceeded past the account's shard limit, ErrInvalidArgument
// unless start+1 < key < end, ErrResourceInUse unless the stream is
// ACTIVE.
func (s *Stream) SplitShard(ctx context.Context, in SplitShardInput) (SplitShardOutput, error) {
	kids, err := s.splitShard(ctx, in.ShardToSplit, in.NewStartingHashKey)
	return SplitShardOutput{ChildShardIDs: kids}, err
}

func (s *Stream) splitShard(ctx context.Context, shardToSplit, newStartingHashKey string) ([]string, error) {
	if err := s.authorize(ctx, "SplitShard"); err != nil {
		return nil, err
	}
	if err := checkName("shardToSplit", shardToSplit); err != nil {
		return nil, err
	}
	if !validHashKeyText(newStartingHashKey) {
		return nil, validation("newStartingHashKey", newStartingHashKey, "satisfy regular expression pattern: 0|([1-9]\\d{0,38})")
	}
	key, err := hashkey.Parse(newStartingHashKey)
	beyond := err != nil // 39 digits past 2^128-1: past every shard's end
	if err := s.acct.fault(ctx, "SplitShard", s.name, shardIndexOr(shardToSplit)); err != nil {
		return nil, err
	}
	if err := s.acct.admit("SplitShard", s.name, 0); err != nil {
		return nil, err
	}
	parent := func() (*shard, error) {
		sh, err := s.openShardLocked(shardToSplit)
		if err != nil {
			return nil, err
		}
		if err := s.acct.roomForShards(1); err != nil {
			return nil, err
		}
		if beyond || !sh.rng.Start.Inc().Less(key) || !key.Less(sh.rng.End) || sh.rng.Start == hashkey.Max {
			return nil, newError(ErrInvalidArgument,
				"NewStartingHashKey %s used in SplitShard() on shard %s in stream %s under account %s is not both greater than one plus the shard's StartingHashKey %s and less than the shard's EndingHashKey %s.",
				newStartingHashKey, sh.id, s.name, s.acct.cfg.accountID, sh.rng.Start, sh.rng.End)
		}
		return sh, nil
	}
	if err := s.beforeState(func() error { _, err := parent(); return err }); err != nil {
		return nil, err
	}
	var children []string
	err = s.reshard(ctx, func(now time.Time) (int, func(), error) {
		sh, err := parent()
		if err != nil {
			return 0, nil, err
		}
		return 1, func() {
			lo, hi := s.splitLocked(now, sh, key)
			children = []string{lo.id, hi.id}
		}, nil
	})
	if err != nil {
		return nil, err
	}
	s.acct.cfg.log.Info("shardlog: split a shard", "stream", s.name, "shard", shardToSplit, "children", children)
	return children, nil
}

// beforeState runs the checks of a change's input that Kinesis makes
// before it looks at the stream's state: a shard that does not exist is
// not found, and an argument it refuses is invalid, also while the stream
// is UPDATING. The change checks again once it holds the stream.
func (s *Stream) beforeState(check func() error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return check()
}

// MergeShardsInput is MergeShards's input.
type MergeShardsInput struct {
	ShardToMerge         string // the child's ParentShardId
	AdjacentShardToMerge string // its AdjacentParentShardId
}

// MergeShardsOutput names the child MergeShards made (Kinesis's answer is
// empty).
type MergeShardsOutput struct {
	ChildShardID string
}

// MergeShards merges two open shards whose hash ranges are adjacent (in
// either order) into one child with ParentShardId in.ShardToMerge and
// AdjacentParentShardId in.AdjacentShardToMerge. Both parents close and
// stay readable.
//
// Errors, in the order Kinesis checks: ErrResourceNotFound if a shard does
// not exist or is closed, ErrInvalidArgument if the ranges are not
// adjacent, ErrResourceInUse unless the stream is ACTIVE.
func (s *Stream) MergeShards(ctx context.Context, in MergeShardsInput) (MergeShardsOutput, error) {
	child, err := s.mergeShards(ctx, in.ShardToMerge, in.AdjacentShardToMerge)
	return MergeShardsOutput{ChildShardID: child}, err
}

func (s *Stream) mergeShards(ctx context.Context, shardToMerge, adjacentShardToMerge string) (string, error) {
	if err := s.authorize(ctx, "MergeShards"); err != nil {
		return "", err
	}
	if err := checkName("shardToMerge", shardToMerge); err != nil {
		return "", err
	}
	if err := checkName("adjacentShardToMerge", adjacentShardToMerge); err != nil {
		return "", err
	}
	if err := s.acct.fault(ctx, "MergeShards", s.name, shardIndexOr(shardToMerge)); err != nil {
		return "", err
	}
	if err := s.acct.admit("MergeShards", s.name, 0); err != nil {
		return "", err
	}
	parents := func() (a, b *shard, err error) {
		if a, err = s.openShardLocked(shardToMerge); err != nil {
			return nil, nil, err
		}
		if b, err = s.openShardLocked(adjacentShardToMerge); err != nil {
			return nil, nil, err
		}
		if !adjacent(a.rng, b.rng) && !adjacent(b.rng, a.rng) {
			return nil, nil, newError(ErrInvalidArgument, "Shards %s and %s in stream %s under account %s are not an adjacent pair of shards eligible for merging",
				a.id, b.id, s.name, s.acct.cfg.accountID)
		}
		return a, b, nil
	}
	if err := s.beforeState(func() error { _, _, err := parents(); return err }); err != nil {
		return "", err
	}
	var child string
	err := s.reshard(ctx, func(now time.Time) (int, func(), error) {
		a, b, err := parents()
		if err != nil {
			return 0, nil, err
		}
		return -1, func() { child = s.mergeLocked(now, a, b).id }, nil
	})
	if err != nil {
		return "", err
	}
	s.acct.cfg.log.Info("shardlog: merged shards", "stream", s.name, "shards", []string{shardToMerge, adjacentShardToMerge}, "child", child)
	return child, nil
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

// UpdateShardCountInput is UpdateShardCount's input. ScalingType must be
// UNIFORM_SCALING; the zero value means it.
type UpdateShardCountInput struct {
	TargetShardCount int
	ScalingType      ScalingType
}

// UpdateShardCountOutput is UpdateShardCount's answer.
type UpdateShardCountOutput struct {
	StreamName        string
	StreamARN         string
	CurrentShardCount int
	TargetShardCount  int
}

// UpdateShardCount reshapes the stream into in.TargetShardCount open shards that split
// the hash space evenly, as CreateStream would. It gets there by splits and
// then merges, so every new shard has at most two parents
// (ParentShardId, AdjacentParentShardId) and readers that follow ChildShards
// never dead-end; intermediate shards appear, closed, in ListShards, as they
// do on AWS.
//
// Errors: ErrValidation for a target below 1 or another scaling type;
// ErrResourceInUse unless the stream is ACTIVE; ErrLimitExceeded for a
// target above twice or below half the open shard count, above 10000, past
// the account's shard limit, or after 10 calls in a rolling 24 hours.
func (s *Stream) UpdateShardCount(ctx context.Context, in UpdateShardCountInput) (UpdateShardCountOutput, error) {
	target, scaling := in.TargetShardCount, in.ScalingType
	if _, err := s.begin(ctx, "UpdateShardCount"); err != nil {
		return UpdateShardCountOutput{}, err
	}
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
	err := s.reshard(ctx, func(now time.Time) (int, func(), error) {
		current = s.openShardCount()
		account := s.acct.cfg.accountID
		// AWS documents these limits but not their exception; LimitExceeded
		// is what its clients handle for this call's 24-hour quota.
		switch {
		case target > 2*current:
			return 0, nil, newError(ErrLimitExceeded, "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: %d Target shard count: %d", current, target)
		case 2*target < current:
			return 0, nil, newError(ErrLimitExceeded, "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: %d Target shard count: %d", current, target)
		case target > maxShardsPerStream:
			return 0, nil, newError(ErrLimitExceeded, "UpdateShardCount cannot scale up over %d shards in stream %s under account %s.", maxShardsPerStream, s.name, account)
		}
		s.scalingOps = slices.DeleteFunc(s.scalingOps, func(t time.Time) bool { return now.Sub(t) >= 24*time.Hour })
		if len(s.scalingOps) >= scalingOpsPerDay {
			return 0, nil, newError(ErrLimitExceeded, "Exceeded the limit of %d UpdateShardCount operations in a rolling 24-hour period for stream %s under account %s.", scalingOpsPerDay, s.name, account)
		}
		return target - current, func() {
			s.scalingOps = append(s.scalingOps, now)
			s.uniformLocked(now, hashkey.Uniform(target))
		}, nil
	})
	if err != nil {
		return UpdateShardCountOutput{}, err
	}
	s.acct.cfg.log.Info("shardlog: updated a stream's shard count", "stream", s.name, "from", current, "to", target)
	return UpdateShardCountOutput{StreamName: s.name, StreamARN: s.arn, CurrentShardCount: current, TargetShardCount: target}, nil
}

// reshard changes the stream's shards. With the stream locked and ACTIVE,
// plan validates the change and returns how many open shards it adds (less
// than zero when it removes some) and apply, which makes it and cannot
// fail. reshard takes the added shards from the account's quota first, then
// applies, publishes the new open shards, closes the shards they replace,
// and marks the stream UPDATING for the update delay. A failed plan or
// quota changes nothing.
func (s *Stream) reshard(ctx context.Context, plan func(now time.Time) (grow int, apply func(), err error)) error {
	return s.update(ctx, func(now time.Time) error {
		if s.settings.mode == OnDemand {
			return newError(ErrValidation, "Resharding is not supported for stream %s under account %s in ON_DEMAND mode.", s.name, s.acct.cfg.accountID)
		}
		return s.reshardLocked(now, plan)
	})
}

// reshardLocked is reshard's work. s.mu is held. The new shards' routes
// are published and their parents closed only once the change is persisted
// (see update).
func (s *Stream) reshardLocked(now time.Time, plan func(now time.Time) (int, func(), error)) error {
	grow, apply, err := plan(now)
	if err != nil {
		return err
	}
	if err := s.acct.reserveShards(grow); err != nil {
		return err
	}
	s.pending = s.pending[:0]
	born := s.nextShard
	apply()
	s.onAbort = append(s.onAbort, func() { s.acct.releaseShards(grow) })
	s.onCommit = append(s.onCommit, func() { s.publishReshardLocked(now, grow, born) })
	return nil
}

// publishReshardLocked makes a persisted reshard visible: the new routes
// first (a Put that finds its shard closed reloads the router and must see
// the children), then the parents close. s.mu is held.
func (s *Stream) publishReshardLocked(now time.Time, grow int, born uint32) {
	s.acct.releaseShards(-grow)
	for _, c := range s.pending {
		if c.sh.index < born { // later ones were born and retired in this change, never routed
			s.openTree.Delete(routeItem{start: c.sh.rng.Start})
		}
	}
	for _, sh := range s.shards {
		if sh.index >= born && !sh.retiring {
			s.openTree.ReplaceOrInsert(routeItem{start: sh.rng.Start, sh: sh})
		}
	}
	s.route.Store(newRouter(s.openTree.Clone()))
	for _, c := range s.pending {
		c.sh.close(now, c.children)
	}
	s.pending = s.pending[:0]
}

// closing is a shard that a reshard closes once the new routes are out.
type closing struct {
	sh       *shard
	children []*shard
}

// openShardLocked returns the open shard with the given ID. s.mu is held.
// The ID is read as Kinesis reads it (resolveShardID).
func (s *Stream) openShardLocked(id string) (*shard, error) {
	i, ok := resolveShardID(id)
	if !ok {
		return nil, s.shardNotFound(id)
	}
	if sh := s.shardAtLocked(i); sh != nil && !s.closingLocked(sh) {
		return sh, nil
	}
	return nil, s.shardNotFound(shardID(i))
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
	parents := []string{parent}
	if adjacent != "" {
		parents = append(parents, adjacent)
	}
	sh := newShard(s, s.nextShard, r, now, parents...)
	s.nextShard++
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

func validHashKeyText(v string) bool {
	return v != "" && len(v) <= 39 && allDigits(v) && (v[0] != '0' || len(v) == 1)
}
