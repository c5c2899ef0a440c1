package shardlog

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits are the per-shard throughput limits. A zero field disables that
// limit, so Limits{} disables them all.
type Limits struct {
	WriteBytesPerSecond   int // data plus partition keys; AWS: 1 MiB
	WriteRecordsPerSecond int // AWS: 1000
	ReadCallsPerSecond    int // GetRecords calls; AWS: 5
	ReadBytesPerSecond    int // GetRecords data plus keys; AWS: 2 MiB
	FanOutBytesPerSecond  int // per consumer per shard, SubscribeToShard; AWS: 2 MiB

	// ControlPlaneRates enforces Kinesis's per-operation call rates:
	// CreateStream 5 a second per account, DescribeStreamSummary 20,
	// ListShards 1000 per stream, GetShardIterator 5 per shard, and so on,
	// as the API documents them. Like the shard limits, they count on the
	// account clock: a manual clock that stands still admits each
	// operation's one second of calls.
	ControlPlaneRates bool
}

// AWSLimits returns Kinesis's provisioned-mode limits: shard writes 1 MiB/s
// and 1000 records/s, reads 5 GetRecords calls/s and 2 MiB/s, 2 MiB/s per
// enhanced fan-out consumer, and the control-plane call rates. A GetRecords
// call that returns 10 MiB also blocks the shard's reads for the next five
// seconds.
func AWSLimits() Limits {
	return Limits{
		WriteBytesPerSecond:   1 << 20,
		WriteRecordsPerSecond: 1000,
		ReadCallsPerSecond:    5,
		ReadBytesPerSecond:    2 << 20,
		FanOutBytesPerSecond:  2 << 20,
		ControlPlaneRates:     true,
	}
}

func (l Limits) validate() error {
	if l.WriteBytesPerSecond < 0 || l.WriteRecordsPerSecond < 0 || l.ReadCallsPerSecond < 0 || l.ReadBytesPerSecond < 0 || l.FanOutBytesPerSecond < 0 {
		return fmt.Errorf("shardlog: negative limit in %+v", l)
	}
	return nil
}

// maxReadBytes is the most one GetRecords call returns.
const maxReadBytes = 10 << 20

// readLockout is how long a shard refuses reads after a call returned
// maxReadBytes.
const readLockout = 5 * time.Second

// writeLimiter throttles appends to one shard. Its methods are called under
// the shard's lock, which makes the check-then-take pair atomic.
type writeLimiter struct {
	records *rate.Limiter // nil: unlimited
	bytes   *rate.Limiter // nil: unlimited
}

func newWriteLimiter(l Limits, maxRecord int) writeLimiter {
	var w writeLimiter
	if l.WriteRecordsPerSecond > 0 {
		w.records = rate.NewLimiter(rate.Limit(l.WriteRecordsPerSecond), l.WriteRecordsPerSecond)
	}
	if l.WriteBytesPerSecond > 0 {
		// A bucket smaller than the largest record could never admit it.
		w.bytes = rate.NewLimiter(rate.Limit(l.WriteBytesPerSecond), max(l.WriteBytesPerSecond, maxRecord))
	}
	return w
}

// allow takes one record of n bytes if both buckets can pay for it, and
// nothing otherwise.
func (w *writeLimiter) allow(now time.Time, n int) bool {
	if w.records == nil && w.bytes == nil {
		return true
	}
	if w.records != nil && w.records.TokensAt(now) < 1 {
		return false
	}
	if w.bytes != nil && w.bytes.TokensAt(now) < float64(n) {
		return false
	}
	if w.records != nil {
		w.records.AllowN(now, 1)
	}
	if w.bytes != nil {
		w.bytes.AllowN(now, n)
	}
	return true
}

// readLimiter throttles GetRecords on one shard: a call needs a call token
// and a non-negative byte balance; the bytes it returns are charged after
// the fact, so a large response puts the balance in debt and later calls
// fail until the debt is repaid at the byte rate.
type readLimiter struct {
	mu          sync.Mutex    // guards all fields
	calls       *rate.Limiter // nil: unlimited
	bytes       *rate.Limiter // nil: unlimited
	lockedUntil time.Time     // set after a maxReadBytes response
}

func newReadLimiter(l Limits) *readLimiter {
	r := new(readLimiter)
	if l.ReadCallsPerSecond > 0 {
		r.calls = rate.NewLimiter(rate.Limit(l.ReadCallsPerSecond), l.ReadCallsPerSecond)
	}
	if l.ReadBytesPerSecond > 0 {
		r.bytes = rate.NewLimiter(rate.Limit(l.ReadBytesPerSecond), l.ReadBytesPerSecond)
	}
	return r
}

func (r *readLimiter) unlimited() bool { return r.calls == nil && r.bytes == nil }

// begin admits a call at now, or reports false.
func (r *readLimiter) begin(now time.Time) bool {
	if r.unlimited() {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Before(r.lockedUntil) {
		return false
	}
	if r.bytes != nil && r.bytes.TokensAt(now) < 0 {
		return false
	}
	return r.calls == nil || r.calls.AllowN(now, 1)
}

// charge records that a call admitted at now returned n bytes.
func (r *readLimiter) charge(now time.Time, n int) {
	if r.unlimited() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if n >= maxReadBytes {
		r.lockedUntil = now.Add(readLockout)
	}
	if r.bytes == nil || n == 0 {
		return
	}
	// ReserveN refuses n above the burst, so take the debt in burst-sized
	// pieces; each piece is granted with a delay and lowers the balance.
	for burst := r.bytes.Burst(); n > 0; {
		piece := min(n, burst)
		if !r.bytes.ReserveN(now, piece).OK() {
			return
		}
		n -= piece
	}
}

// Account quotas, as Kinesis's defaults.
const (
	maxStreamsCreating = 5
	maxOnDemandStreams = 50
	defaultShardLimit  = 20000
	maxShardsPerStream = 10000
	scalingOpsPerDay   = 10
)

// reserveShards takes n more open shards from the account's quota, or
// reports LimitExceeded and takes none. It is atomic: concurrent callers
// never exceed the limit together, and no n overflows the count.
func (a *Account) reserveShards(n int) error {
	if n <= 0 {
		return nil
	}
	limit := int64(a.cfg.shardLimit)
	for {
		open := a.openShards.Load()
		if int64(n) > limit-open {
			return a.shardLimitError(open, n)
		}
		if a.openShards.CompareAndSwap(open, open+int64(n)) {
			return nil
		}
	}
}

// roomForShards is reserveShards without the reservation: a check of a
// request's input, which the change repeats as it reserves.
func (a *Account) roomForShards(n int) error {
	if open := a.openShards.Load(); int64(n) > int64(a.cfg.shardLimit)-open {
		return a.shardLimitError(open, n)
	}
	return nil
}

// releaseShards gives n open shards back to the quota.
func (a *Account) releaseShards(n int) {
	if n > 0 {
		a.openShards.Add(-int64(n))
	}
}

func (a *Account) shardLimitError(open int64, more int) *Error {
	return newError(ErrLimitExceeded,
		"This request would exceed the shard limit for the account %s in %s. Current shard count for the account: %d. Limit: %d. Number of additional shards that would have resulted from this request: %d. Refer to the AWS Service Limits page (https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.",
		a.cfg.accountID, a.cfg.region, open, a.cfg.shardLimit, more)
}

// onDemandStreamsLocked counts the streams in ON_DEMAND mode that are not
// gone. a.mu is held.
func (a *Account) onDemandStreamsLocked(now time.Time) int {
	n := 0
	for _, s := range a.streams {
		if s.statusAt(now) != statusGone && s.mode() == OnDemand {
			n++
		}
	}
	return n
}

// checkOnDemandLimitLocked reports whether one more ON_DEMAND stream is
// allowed. a.mu is held.
func (a *Account) checkOnDemandLimitLocked(now time.Time) error {
	if a.onDemandStreamsLocked(now) >= maxOnDemandStreams {
		return newError(ErrLimitExceeded, "This request would exceed the limit of %d on-demand streams for the account %s in %s.", maxOnDemandStreams, a.cfg.accountID, a.cfg.region)
	}
	return nil
}

// AccountLimits is the output of DescribeLimits.
type AccountLimits struct {
	ShardLimit               int
	OpenShardCount           int
	OnDemandStreamCount      int
	OnDemandStreamCountLimit int
}

// DescribeLimits returns the account's shard limit, its open shards (those
// of streams not deleted) and its ON_DEMAND streams.
func (a *Account) DescribeLimits(ctx context.Context) (AccountLimits, error) {
	if err := a.enter(ctx); err != nil {
		return AccountLimits{}, err
	}
	if err := a.authorizeResource(ctx, "DescribeLimits", "*"); err != nil {
		return AccountLimits{}, err
	}
	if err := a.gate(ctx, "DescribeLimits", ""); err != nil {
		return AccountLimits{}, err
	}
	now := a.cfg.clock.Now()
	a.mu.Lock()
	a.purgeLocked(now)
	onDemand := a.onDemandStreamsLocked(now)
	a.mu.Unlock()
	return AccountLimits{
		ShardLimit:               a.cfg.shardLimit,
		OpenShardCount:           int(a.openShards.Load()),
		OnDemandStreamCount:      onDemand,
		OnDemandStreamCountLimit: maxOnDemandStreams,
	}, nil
}
