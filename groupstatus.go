package shardlog

import (
	"context"
	"slices"
	"strings"
)

// GroupShard is one shard's lease in a consumer group, with how far the
// group is behind on it.
type GroupShard struct {
	Lease
	// RecordsBehind counts the shard's records after the checkpoint;
	// MillisBehind is the age of the oldest of them (0 when none).
	RecordsBehind uint64
	MillisBehind  int64
}

// DescribeGroup returns the leases of the consumer group application on
// the stream, by shard, with each shard's lag: who processes what, and how
// far behind. leases is the group's LeaseStore; nil means the account's.
func (s *Stream) DescribeGroup(ctx context.Context, application string, leases LeaseStore) ([]GroupShard, error) {
	if err := s.authorize(ctx, "DescribeStream"); err != nil {
		return nil, err
	}
	now, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkName("application", application); err != nil {
		return nil, err
	}
	if leases == nil {
		leases = s.acct.LeaseStore()
	}
	ls, err := leases.Leases(ctx, s.leaseTable(application))
	if err != nil {
		return nil, err
	}
	out := make([]GroupShard, 0, len(ls))
	for _, l := range ls {
		g := GroupShard{Lease: l}
		if sh := s.shard(l.Key); sh != nil && !l.ShardEnd {
			sh.expire(now)
			head, tail := sh.seg.Head(), sh.seg.Len()
			next := max(min(l.Checkpoint.n.Counter, tail), head)
			g.RecordsBehind = tail - next
			if ms, ok := sh.seg.Millis(next); ok && next < tail {
				g.MillisBehind = max(0, now.UnixMilli()-ms)
			}
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b GroupShard) int { return compareShardIDs(a.Key, b.Key) })
	return out, nil
}

// ListGroups returns the names of the consumer groups that keep leases for
// the stream in the account's LeaseStore, sorted. (Groups with a store of
// their own are known to it alone.)
func (s *Stream) ListGroups(ctx context.Context) ([]string, error) {
	if err := s.authorize(ctx, "DescribeStream"); err != nil {
		return nil, err
	}
	if _, err := s.enter(ctx); err != nil {
		return nil, err
	}
	m := s.acct.memTables()
	prefix := s.leaseTable("")
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for name, t := range m.tables {
		if app, ok := strings.CutPrefix(name, prefix); ok && len(t) > 0 {
			out = append(out, app)
		}
	}
	slices.Sort(out)
	return out, nil
}
