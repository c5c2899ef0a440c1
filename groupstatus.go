package shardlog

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// GroupShard is one shard's lease in a consumer group, with how far the
// group is behind on it.
type GroupShard struct {
	Lease
	// RecordsBehind counts the shard's records after the checkpoint (on
	// an embedded stream only; 0 elsewhere); MillisBehind is the age of
	// the oldest of them (0 when none).
	RecordsBehind uint64
	MillisBehind  int64
}

// DescribeGroup returns the leases of the consumer group application on
// stream, by shard, with how far the group is behind on each: who
// processes what, and how far behind. It takes any StreamAPI, so that the
// same monitoring code runs embedded and on Amazon Kinesis: on a *Stream it
// is [Stream.DescribeGroup]; elsewhere leases (required) is the group's
// LeaseStore, MillisBehind is the age of the first record after the
// checkpoint, read with one GetRecords of one record per shard, and
// RecordsBehind, which only an embedded stream can count, is 0.
//
// Errors: ErrResourceNotFound for a group with no leases there (no worker
// of it has run on the stream: a misspelled name, say), ErrInvalidConfig
// without leases on a StreamAPI other than *Stream, and the errors of the
// calls it makes.
func DescribeGroup(ctx context.Context, stream StreamAPI, application string, leases LeaseStore) ([]GroupShard, error) {
	if s, ok := stream.(*Stream); ok {
		return s.DescribeGroup(ctx, application, leases)
	}
	if leases == nil {
		return nil, configError("Leases", "is required for a stream other than a *Stream.")
	}
	if checkName("application", application) != nil {
		return nil, configError("Application", "%q is not 1 to 128 of a-z, A-Z, 0-9, _ . and -.", application)
	}
	ls, err := leases.Leases(ctx, stream.Name()+"/"+application)
	if err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, noGroup(application, stream.Name())
	}
	out := make([]GroupShard, 0, len(ls))
	for _, l := range ls {
		g := GroupShard{Lease: l}
		if !l.ShardEnd {
			if g.MillisBehind, err = oldestUnprocessed(ctx, stream, l); err != nil {
				return nil, err
			}
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b GroupShard) int { return compareShardIDs(a.Key, b.Key) })
	return out, nil
}

// oldestUnprocessed returns the age of the first record after l's
// checkpoint (or where it starts), 0 if there is none.
func oldestUnprocessed(ctx context.Context, stream StreamAPI, l Lease) (int64, error) {
	p := StartingPosition{Type: TrimHorizon}
	switch {
	case !l.Checkpoint.IsZero():
		p = StartingPosition{Type: AfterSequenceNumber, SequenceNumber: l.Checkpoint}
	case l.Start == Latest:
		return 0, nil
	}
	it, err := stream.GetShardIterator(ctx, l.Key, p)
	if errors.Is(err, ErrResourceNotFound) {
		return 0, nil // the shard expired, records and all
	}
	if err != nil {
		return 0, err
	}
	out, err := stream.GetRecords(ctx, GetRecordsInput{ShardIterator: it, Limit: 1})
	if err != nil || len(out.Records) == 0 {
		return 0, err
	}
	return max(0, time.Since(out.Records[0].ApproximateArrivalTimestamp).Milliseconds()), nil
}

// noGroup is the error of a group with no leases.
func noGroup(application, stream string) error {
	return newError(ErrResourceNotFound, "Consumer group %s has no leases on stream %s: no worker of it has run there.", application, stream)
}

// DescribeGroup is [DescribeGroup] on this stream; leases nil means the
// account's LeaseStore. It counts the records behind each checkpoint.
func (s *Stream) DescribeGroup(ctx context.Context, application string, leases LeaseStore) ([]GroupShard, error) {
	if err := s.authorize(ctx, "DescribeStream"); err != nil {
		return nil, err
	}
	now, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	if checkName("application", application) != nil {
		return nil, configError("Application", "%q is not 1 to 128 of a-z, A-Z, 0-9, _ . and -.", application)
	}
	if leases == nil {
		leases = s.acct.LeaseStore()
	}
	ls, err := leases.Leases(ctx, s.leaseTable(application))
	if err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, noGroup(application, s.name)
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
