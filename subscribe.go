package shardlog

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/shardlog/shardlog/internal/segment"
	"github.com/shardlog/shardlog/internal/seqnum"
)

const (
	// subscriptionLifetime is how long a SubscribeToShard lasts.
	subscriptionLifetime = 5 * time.Minute
	// resubscribeAfter is how soon the same consumer may subscribe to the
	// same shard again (and take the subscription over).
	resubscribeAfter = 5 * time.Second
	// maxEventBytes and maxEventRecords bound one event.
	maxEventBytes   = 1 << 20
	maxEventRecords = 10000
)

// SubscribeToShardEvent is one event of a subscription.
type SubscribeToShardEvent struct {
	// Records are in sequence-number order, possibly none (a heartbeat).
	// Their keys and data share the shard's storage and must not be
	// modified. The slice itself is reused: it is valid until the next
	// receive from Events, so copy the records (not their data) to keep
	// them longer.
	Records []Record
	// ContinuationSequenceNumber is where to resume: subscribe again with
	// AFTER_SEQUENCE_NUMBER and it. It is the zero value in the last event
	// of a closed shard, which carries ChildShards instead.
	ContinuationSequenceNumber SequenceNumber
	MillisBehindLatest         int64
	ChildShards                []ChildShard
	EncryptionType             EncryptionType // the stream's when the event was read: "NONE" or "KMS"
}

// Subscription pushes a shard's records to a consumer, as SubscribeToShard.
// Receive from Events until it is closed, then Err says why it ended. A
// Subscription is safe for concurrent use.
//
// It is a cursor over the shard's storage, not a queue: a consumer that
// receives slowly only falls behind, and never slows producers or other
// consumers. In steady state delivering an event allocates nothing.
type Subscription struct {
	stream   *Stream
	consumer *consumer
	sh       *shard
	events   chan SubscribeToShardEvent
	stop     chan struct{} // closed by end, for whatever reason comes first
	stopOnce sync.Once
	stopErr  error         // why it ended; written before stop is closed
	done     chan struct{} // closed when the goroutine has exited

	wake     chan struct{} // cap 1: the shard has appended or closed (see shard.await)
	beat     chan struct{} // cap 1: a heartbeat is due
	lastSent atomic.Int64  // when the last event was sent, Unix ns on the account's clock
	records  [2][]Record   // event slices, used in turn: one may still be with the consumer

	endTimer  Timer      // ends it five minutes after the call
	beatMu    sync.Mutex // guards beatTimer
	beatTimer Timer      // checks, every heartbeat interval, whether a heartbeat is due
	tick      func()     // sub.beatTick, made once

	meter eventMeter // this minute's events, for the metrics
}

// keepRecords is the capacity of event slices kept for reuse; larger
// events (a consumer catching up) allocate theirs.
const keepRecords = 256

// beatTick runs on the heartbeat timer: it asks for a heartbeat if nothing
// was sent for a heartbeat interval, and sets the timer for when one may be
// due next. One timer per interval, however many events flow.
func (sub *Subscription) beatTick() {
	a := sub.stream.acct
	now := a.cfg.clock.Now()
	wait := time.Unix(0, sub.lastSent.Load()).Add(a.cfg.heartbeat).Sub(now)
	if wait <= 0 {
		select {
		case sub.beat <- struct{}{}:
		default:
		}
		wait = a.cfg.heartbeat
	}
	sub.beatMu.Lock()
	defer sub.beatMu.Unlock()
	if sub.beatTimer != nil { // nil once stopped
		sub.beatTimer = a.cfg.clock.AfterFunc(wait, sub.tick)
	}
}

func (sub *Subscription) stopTimers() {
	sub.endTimer.Stop()
	sub.beatMu.Lock()
	sub.beatTimer.Stop()
	sub.beatTimer = nil
	sub.beatMu.Unlock()
}

// Events returns the channel of events. It is closed when the subscription
// ends: after five minutes, at the end of a closed shard (after the event
// with ChildShards), or for the reason Err gives. An event's Records are
// valid until the next receive.
func (sub *Subscription) Events() <-chan SubscribeToShardEvent { return sub.events }

// Done returns a channel that is closed once the subscription has ended
// and its goroutine has exited (Events is closed by then).
func (sub *Subscription) Done() <-chan struct{} { return sub.done }

// Err returns why the subscription ended, once Events is closed: nil after
// its five minutes, at a shard's end or after Close; ErrResourceInUse when
// a newer subscription took over; ErrResourceNotFound when the consumer was
// deregistered or the stream deleted; ErrClosed when the account closed;
// the context's error when it was cancelled.
func (sub *Subscription) Err() error {
	select {
	case <-sub.stop: // stopErr is written before stop closes, and stop before Events
		return sub.stopErr
	default:
		return nil
	}
}

// Close ends the subscription and waits for its goroutine to exit. It is
// idempotent and returns nil.
func (sub *Subscription) Close() error {
	sub.end(nil)
	<-sub.done
	return nil
}

// end stops the subscription for err (nil for a clean end). The first
// reason wins; end never blocks, so it may be called under locks and from
// clock timers.
func (sub *Subscription) end(err error) {
	sub.stopOnce.Do(func() {
		sub.stopErr = err
		close(sub.stop)
	})
}

// endSubscriptionsLocked ends every subscription of the consumers of s for
// err. s.mu is held.
func (s *Stream) endSubscriptionsLocked(err error) {
	for _, c := range s.consumers {
		c.endSubscriptions(err)
	}
}

// endSubscriptions ends the consumer's subscriptions for err. Its stream's
// lock is held.
func (c *consumer) endSubscriptions(err error) {
	for _, sub := range c.subs {
		sub.end(err)
	}
}

// SubscribeToShardInput is SubscribeToShard's input. Account's takes the
// consumer by ConsumerARN; a stream's ([StreamAPI]) by ConsumerName, the
// name it was registered under on that stream, or by ConsumerARN.
type SubscribeToShardInput struct {
	ConsumerARN      string
	ConsumerName     string
	ShardID          string
	StartingPosition StartingPosition
}

// SubscribeToShard starts pushing in.ShardID's records from
// in.StartingPosition to an ACTIVE consumer, named by in.ConsumerARN. The subscription lasts five minutes; resubscribe with
// AFTER_SEQUENCE_NUMBER and the last ContinuationSequenceNumber. Delivery
// is limited to the fan-out rate per consumer and shard (2 MiB/s by
// default); above it, delivery waits.
//
// Errors: ErrResourceNotFound for a missing consumer, stream or shard;
// ErrResourceInUse if the consumer is not ACTIVE or subscribed to the same
// shard less than five seconds ago (five seconds or more later, the new
// subscription takes over and the old one ends with ErrResourceInUse);
// ErrInvalidArgument or ErrValidation for a bad position.
func (a *Account) SubscribeToShard(ctx context.Context, in SubscribeToShardInput) (sub *Subscription, err error) {
	consumerARN, shardID, p := in.ConsumerARN, in.ShardID, in.StartingPosition
	if err := a.enter(ctx); err != nil {
		return nil, err
	}
	if consumerARN == "" {
		return nil, validation("consumerARN", "", "have length greater than or equal to 1")
	}
	if err := a.authorizeResource(ctx, "SubscribeToShard", consumerARN); err != nil {
		return nil, err
	}
	now := a.cfg.clock.Now()
	s, c, st, err := a.consumer(ConsumerRef{ConsumerARN: consumerARN}, now)
	if err != nil {
		return nil, err
	}
	rateExceeded := false
	defer func() { s.meterSubscribe(now, c.name, err, rateExceeded) }()
	if st != ConsumerActive {
		return nil, newError(ErrResourceInUse, "Consumer %s is not in ACTIVE state, instead in state %s.", consumerARN, st)
	}
	if err := s.authorizeDecrypt(ctx, s.crypto.allGens()); err != nil {
		return nil, err
	}
	if err := a.fault(ctx, "SubscribeToShard", s.name, shardIndexOr(shardID)); err != nil {
		return nil, err
	}
	sh, pos, err := s.seek(now, shardID, p)
	if err != nil {
		return nil, err
	}
	pos = max(pos, sh.seg.Head())
	sub = &Subscription{
		stream:   s,
		consumer: c,
		sh:       sh,
		events:   make(chan SubscribeToShardEvent),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		wake:     make(chan struct{}, 1),
		beat:     make(chan struct{}, 1),
	}
	sub.tick = sub.beatTick
	sub.lastSent.Store(now.UnixNano())
	s.mu.Lock()
	if c.statusAt(now, a.cfg.delays) != ConsumerActive || !s.times.Load().deleted.IsZero() {
		// Deregistered or deleted since we looked: the walk that ends
		// subscriptions has passed, so do not start one it missed.
		s.mu.Unlock()
		return nil, newError(ErrResourceNotFound, "Consumer %s was deregistered.", consumerARN)
	}
	if last, ok := c.last[sh.index]; ok && now.Sub(last) < resubscribeAfter {
		s.mu.Unlock()
		rateExceeded = true
		return nil, newError(ErrResourceInUse, "Another subscription of consumer %s to shard %s started less than %d seconds ago.", consumerARN, sh.id, int(resubscribeAfter/time.Second))
	}
	old := c.subs[sh.index]
	c.subs[sh.index], c.last[sh.index] = sub, now
	s.mu.Unlock()
	if old != nil {
		old.end(newError(ErrResourceInUse, "A newer subscription of consumer %s to shard %s took over.", consumerARN, sh.id))
	}
	sub.endTimer = a.cfg.clock.AfterFunc(subscriptionLifetime, func() { sub.end(nil) })
	sub.beatMu.Lock()
	sub.beatTimer = a.cfg.clock.AfterFunc(a.cfg.heartbeat, sub.tick)
	sub.beatMu.Unlock()
	if !a.spawn(func() { sub.run(ctx, pos) }) {
		sub.stopTimers()
		s.mu.Lock()
		if c.subs[sh.index] == sub {
			delete(c.subs, sh.index)
		}
		s.mu.Unlock()
		return nil, ErrClosed
	}
	return sub, nil
}

// spawn runs f in a goroutine that Close waits for, unless the account is
// closed.
func (a *Account) spawn(f func()) bool {
	a.spawnMu.Lock()
	defer a.spawnMu.Unlock()
	if a.closed.Load() {
		return false
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		f()
	}()
	return true
}

// run delivers events until the subscription ends.
func (sub *Subscription) run(ctx context.Context, pos uint64) {
	s, sh := sub.stream, sub.sh
	a := s.acct
	clock := a.cfg.clock
	defer close(sub.done)
	defer close(sub.events)
	defer sub.end(nil)     // fixes Err before Events closes, however run ended
	defer sub.foldEvents() // its stream's queries no longer see it
	defer sub.stopTimers()
	defer sh.unawait(sub.wake)
	defer func() {
		s.mu.Lock()
		if sub.consumer.subs[sh.index] == sub {
			delete(sub.consumer.subs, sh.index)
		}
		s.mu.Unlock()
	}()
	stopCtx := context.AfterFunc(ctx, func() { sub.end(ctx.Err()) })
	defer stopCtx()
	var limiter *rate.Limiter
	if n := a.cfg.limits.FanOutBytesPerSecond; n > 0 {
		limiter = rate.NewLimiter(rate.Limit(n), n)
	}

	c := sh.seg.Cursor(pos)
	for turn := 0; ; turn ^= 1 {
		now := clock.Now()
		sh.expire(now)
		tail, final := sh.tail()
		ev, bytes, err := sub.batch(&c, tail, now, turn)
		if err != nil {
			sub.end(err)
			return
		}
		atEnd := final && c.Pos() >= tail
		if len(ev.Records) == 0 && !atEnd {
			if !sh.await(c.Pos(), sub.wake) {
				turn ^= 1 // nothing was sent: the same slice again
				continue
			}
			select {
			case <-sub.wake:
				turn ^= 1
				continue
			case <-sub.beat: // idle: send an empty event to checkpoint with
			case <-sub.stop:
				return
			}
		}
		if limiter != nil && bytes > 0 {
			if d := reserve(limiter, now, bytes); d > 0 {
				if sleep(context.Background(), clock, d, sub.stop) != nil {
					return
				}
			}
		}
		if atEnd {
			ev.ChildShards = sh.childShards()
			ev.ContinuationSequenceNumber = SequenceNumber{}
		}
		select {
		case sub.events <- ev:
			sub.meterEvent(now, bytes, len(ev.Records), ev.MillisBehindLatest)
		case <-sub.stop:
			return
		}
		if atEnd {
			return
		}
		sub.lastSent.Store(clock.Now().UnixNano())
	}
}

// batch reads the records available from c, up to an event's size, into
// the event slice of the given turn.
func (sub *Subscription) batch(c *segment.Cursor, tail uint64, now time.Time, turn int) (SubscribeToShardEvent, int, error) {
	sh := sub.sh
	ev := SubscribeToShardEvent{Records: sub.records[turn][:0]}
	if need := min(maxEventRecords, tail-min(c.Pos(), tail)); ev.Records == nil || uint64(cap(ev.Records)) < need {
		ev.Records = make([]Record, 0, max(need, 16))
	}
	bytes := 0
	var r segment.Record
	for len(ev.Records) < maxEventRecords && c.Pos() < tail && c.Next(&r) {
		size := recordSize(&r)
		if len(ev.Records) > 0 && bytes+size > maxEventBytes {
			c.Seek(r.Pos)
			break
		}
		bytes += size
		if r.Gen == 0 {
			ev.Records = append(ev.Records, sh.plainRecord(&r))
			continue
		}
		rec, err := sh.sealedRecord(&r)
		if err != nil {
			return ev, bytes, err
		}
		ev.Records = append(ev.Records, rec)
	}
	if cap(ev.Records) <= keepRecords {
		sub.records[turn] = ev.Records
	}
	if err := c.Err(); err != nil && len(ev.Records) == 0 {
		return ev, bytes, sh.readError(err) // damage ends the subscription
	}
	next := c.Pos()
	ev.EncryptionType = sub.stream.encryptionType()
	ev.ContinuationSequenceNumber = SequenceNumber{n: seqnum.Number{Stream: sh.inc, Shard: sh.index, Counter: next}}
	if ms, ok := sh.seg.Millis(next); ok && next < tail {
		ev.MillisBehindLatest = max(0, now.UnixMilli()-ms)
	}
	return ev, bytes, nil
}

// reserve takes n tokens from l at now, in burst-sized pieces when n is
// larger than the burst, and returns how long to wait before using them.
func reserve(l *rate.Limiter, now time.Time, n int) time.Duration {
	var d time.Duration
	for burst := l.Burst(); n > 0; {
		piece := min(n, burst)
		d = l.ReserveN(now, piece).DelayFrom(now)
		n -= piece
	}
	return d
}
