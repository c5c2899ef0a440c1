package shardlog

import (
	"context"
	"math"
	"time"
)

// Retention bounds, as Kinesis's.
const (
	DefaultRetention = 24 * time.Hour
	MinRetention     = 24 * time.Hour
	MaxRetention     = 8760 * time.Hour
)

// never is a trimAt meaning no record is due to expire.
const never = math.MaxInt64

// retention returns how long the stream keeps records.
func (s *Stream) retention() time.Duration { return time.Duration(s.retentionNanos.Load()) }

// retentionHours is the retention in whole hours, as Kinesis reports it;
// an EmbeddedLog retention shorter than an hour counts as one.
func (s *Stream) retentionHours() int { return int((s.retention() + time.Hour - 1) / time.Hour) }

// IncreaseStreamRetentionPeriod lengthens the stream's retention period to
// period: whole hours, 24 to 8760 (Kinesis's RetentionPeriodHours). Records
// that had already expired stay gone. Equal to the current period is
// accepted and changes nothing.
//
// Errors: ErrInvalidArgument for a period out of range, not whole hours or
// below the current period; ErrResourceInUse unless the stream is ACTIVE.
func (s *Stream) IncreaseStreamRetentionPeriod(ctx context.Context, period time.Duration) error {
	if _, err := s.begin(ctx, "IncreaseStreamRetentionPeriod"); err != nil {
		return err
	}
	return s.changeRetention(ctx, period, true)
}

// DecreaseStreamRetentionPeriod shortens the stream's retention period to
// period: whole hours, 24 to 8760. Records older than the new period are
// gone at once.
//
// Errors: ErrInvalidArgument for a period out of range, not whole hours or
// above the current period; ErrResourceInUse unless the stream is ACTIVE.
func (s *Stream) DecreaseStreamRetentionPeriod(ctx context.Context, period time.Duration) error {
	if _, err := s.begin(ctx, "DecreaseStreamRetentionPeriod"); err != nil {
		return err
	}
	return s.changeRetention(ctx, period, false)
}

func (s *Stream) changeRetention(ctx context.Context, period time.Duration, increase bool) error {
	hours := int(period / time.Hour)
	switch {
	case period%time.Hour != 0 && period >= MinRetention && period <= MaxRetention:
		return newError(ErrInvalidArgument, "A retention period is a whole number of hours; %v is not.", period)
	case period < MinRetention:
		return newError(ErrInvalidArgument, "Minimum allowed retention period is %d hours. Requested retention period (%d hours) is too short.", int(MinRetention/time.Hour), hours)
	case period > MaxRetention:
		return newError(ErrInvalidArgument, "Maximum allowed retention period is %d hours. Requested retention period (%d hours) is too long.", int(MaxRetention/time.Hour), hours)
	}
	// The direction is checked before the stream's state, as Kinesis does,
	// and again once the stream is held.
	direction := func() error {
		current := s.retentionHours()
		switch {
		case increase && hours < current:
			return newError(ErrInvalidArgument, "Requested retention period (%d hours) for stream %s can not be shorter than existing retention period (%d hours). Use DecreaseRetentionPeriod API.", hours, s.name, current)
		case !increase && hours > current:
			return newError(ErrInvalidArgument, "Requested retention period (%d hours) for stream %s can not be longer than existing retention period (%d hours). Use IncreaseRetentionPeriod API.", hours, s.name, current)
		case hours == current:
			return errUnchanged
		}
		return nil
	}
	if err := direction(); err != nil && err != errUnchanged {
		return err
	}
	return s.update(ctx, func(now time.Time) error {
		if err := direction(); err != nil {
			return err
		}
		// What expired under the old period is gone already (update expires
		// first); with a shorter period, the newly old expire once the
		// change is persisted.
		s.retentionNanos.Store(int64(time.Duration(hours) * time.Hour))
		for _, sh := range s.shards {
			sh.resetTrimAt()
		}
		s.onCommit = append(s.onCommit, func() {
			s.expireShardsLocked(now)
			s.acct.cfg.log.Info("shardlog: changed a stream's retention period", "stream", s.name, "hours", hours)
		})
		return nil
	})
}

// expired reports whether sh is closed and its newest record arrived before
// trim, so that nothing of it is readable any more.
func (sh *shard) expired(trim time.Time) bool {
	if !sh.closed.Load() {
		return false
	}
	newest := sh.closedAt
	if sh.seg.Len() > 0 {
		newest = time.UnixMilli(sh.lastMillisClosed())
	}
	return newest.Before(trim)
}

// lastMillisClosed returns the newest arrival time of a closed shard.
func (sh *shard) lastMillisClosed() int64 {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.lastMillis
}

// expire trims sh's records that are past retention at now, if any are
// due. It is cheap when none is: one atomic load and a comparison.
func (sh *shard) expire(now time.Time) {
	if now.UnixMilli() < sh.trimAt.Load() {
		return
	}
	sh.mu.Lock()
	sh.expireLocked(now.UnixMilli())
	sh.mu.Unlock()
}

// expireLocked trims the records that arrived before now minus the
// retention period. sh.mu is held.
func (sh *shard) expireLocked(nowMS int64) {
	if nowMS < sh.trimAt.Load() {
		return
	}
	head := sh.seg.Head()
	cut := sh.seg.SearchMillis(nowMS - sh.retentionMillis()) // the first record still live
	sh.trimTo(cut, cut-head)
	sh.setTrimAt()
}

// trimTo drops the records below pos (n of them) and updates the stream's
// totals. sh.mu is held.
func (sh *shard) trimTo(pos, n uint64) {
	if n == 0 {
		return
	}
	sh.flushLocked() // count what is pending before taking away what is freed
	freed := sh.seg.TrimBefore(pos)
	sh.count(-freed, -int64(n))
}

// setTrimAt records when the oldest live record expires. sh.mu is held.
func (sh *shard) setTrimAt() {
	if ms, ok := sh.seg.Millis(sh.seg.Head()); ok {
		sh.trimAt.Store(ms + sh.retentionMillis() + 1)
	} else {
		sh.trimAt.Store(never)
	}
}

func (sh *shard) resetTrimAt() {
	sh.mu.Lock()
	sh.setTrimAt()
	sh.mu.Unlock()
}

// expireShardsLocked trims every shard and forgets closed shards whose
// records have all expired, releasing their memory. s.mu is held for
// writing.
func (s *Stream) expireShardsLocked(now time.Time) {
	trim := now.Add(-s.retention())
	var live []*shard // built only once a shard expires: readers may hold s.shards
	for i, sh := range s.shards {
		if !sh.expired(trim) {
			sh.expire(now)
			if live != nil {
				live = append(live, sh)
			}
			continue
		}
		sh.foldMeters() // its last minutes' metrics outlive it, its totals do not
		s.metrics.forget(func(t *minuteRecord) { delete(t.shards, sh.index) })
		sh.mu.Lock()
		sh.trimTo(sh.seg.Len(), sh.seg.Len()-sh.seg.Head())
		if st := s.acct.store; st != nil {
			sh.files.closeLocked()
			if err := st.removeShardFiles(sh.files); err != nil {
				st.log.Warn("shardlog: could not remove an expired shard's files", "shard", sh.id, "dir", sh.files.dir, "err", err)
			}
		}
		sh.mu.Unlock()
		s.acct.cfg.log.Info("shardlog: a closed shard expired", "stream", s.name, "shard", sh.id)
		if live == nil {
			live = append(make([]*shard, 0, len(s.shards)), s.shards[:i]...)
		}
	}
	if live != nil {
		s.shards = live // expired IDs stay taken: indexes are never reused
	}
}

// ApplyRetention expires, in every stream of the account, the records past
// their stream's retention period and the closed shards whose records have
// all expired, and releases their memory. Expiry also happens by itself as
// shards are written and read; ApplyRetention (or the janitor, see
// [WithJanitor]) reaches shards that are idle. In a durable account it also
// lets the memory of shards that took no record for 5 minutes go: their
// records stay in their files, read back when asked for.
func (a *Account) ApplyRetention(ctx context.Context) error {
	if err := a.enter(ctx); err != nil {
		return err
	}
	now := a.cfg.clock.Now()
	for _, s := range a.streamList() {
		s.mu.Lock()
		s.expireShardsLocked(now)
		s.mu.Unlock()
		s.enforceBounds()
		for _, sh := range s.shardList() {
			sh.flushDeletions()
			sh.parkIfIdle(now)
		}
	}
	return nil
}

// startJanitor expires idle shards on a timer of the account's clock
// (WithJanitor).
func (a *Account) startJanitor() {
	if a.cfg.janitor > 0 {
		a.janitor = repeat(a.cfg.clock, a.cfg.janitor, &a.wg, func() { _ = a.ApplyRetention(context.Background()) })
	}
}
