package producer

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"time"

	"golang.org/x/time/rate"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/kpl"
)

// loop is the producer's one goroutine that owns the buffered records: it
// groups them by predicted shard, sends batches when they are full, old
// enough or flushed, and takes back the outcomes.
type loop struct {
	p   *Producer
	cfg Config

	shards    *shardMap
	stale     bool // a record landed elsewhere than predicted: list again
	listing   bool
	ready     bool // the first listing is over: batches may go
	listed    chan listing
	queues    map[string]*queue // by predicted shard ID ("" if none)
	outcomes  chan outcome
	relist    chan struct{} // a failed listing's backoff is over
	wake      chan struct{}
	timer     shardlog.Timer
	timerAt   time.Time
	listRetry time.Duration
	inFlight  map[*batch]struct{} // sent, not yet settled
	tally     tally               // metrics gathered, handed to the meters at once
	ended     []*record           // records done, resolved once their tally is handed
	agg       kpl.Aggregator      // take's, kept so that its buffers are reused
}

type listing struct {
	m   *shardMap
	err error
}

// queue is one predicted shard's records, oldest first.
type queue struct {
	records   []*record
	bytes     int
	inFlight  int
	notBefore time.Time        // a retry's backoff: nothing is sent before
	limits    [2]*rate.Limiter // records and bytes a second; nil without RateLimit
}

// batch is one PutRecords call: Kinesis records, each carrying user
// records (one, or an aggregate's).
type batch struct {
	shard   string
	inputs  []shardlog.PutInput
	carried [][]*record
}

// outcome is a batch's answer.
type outcome struct {
	b   *batch
	res shardlog.PutBatchOutput
	err error
}

func newLoop(p *Producer) *loop {
	return &loop{
		p: p, cfg: p.cfg, listed: make(chan listing, 1), queues: map[string]*queue{},
		outcomes: make(chan outcome), relist: make(chan struct{}, 1), wake: make(chan struct{}, 1),
		stale: true, inFlight: map[*batch]struct{}{},
	}
}

// run runs until the producer stops, and returns the records it still
// held, queued or in flight.
func (l *loop) run() []*record {
	defer func() {
		if l.timer != nil {
			l.timer.Stop()
		}
	}()
	for {
		l.list()
		l.dispatch()
		select {
		case r := <-l.p.in:
			l.add(r)
			l.drain()
			l.p.meters.add(mUserRecordsPending, float64(l.p.buffered()))
		case o := <-l.outcomes:
			l.settle(o)
		case ls := <-l.listed:
			l.listing, l.ready = false, true
			if ls.err != nil {
				l.cfg.Logger.Warn("producer: could not list the stream's shards", "stream", l.p.api.Name(), "err", ls.err)
				l.listRetry = min(max(2*l.listRetry, 100*time.Millisecond), 10*time.Second)
				l.after(l.listRetry, func() {
					select {
					case l.relist <- struct{}{}:
					default:
					}
				})
				continue
			}
			l.shards, l.listRetry = ls.m, 0
			l.rebucket()
		case <-l.relist:
			l.stale = true
		case <-l.wake:
		case <-l.p.poke:
		case <-l.p.ctx.Done():
			return l.held()
		}
	}
}

// held lists the records the loop holds.
func (l *loop) held() []*record {
	var out []*record
	for _, q := range l.queues {
		out = append(out, q.records...)
	}
	for b := range l.inFlight {
		for _, c := range b.carried {
			out = append(out, c...)
		}
	}
	return out
}

// drain adds the records already waiting, so that they go in one batch.
func (l *loop) drain() {
	for range cap(l.p.in) {
		select {
		case r := <-l.p.in:
			l.add(r)
		default:
			return
		}
	}
}

// list lists the shards again in the background if the map is stale.
func (l *loop) list() {
	if !l.stale || l.listing {
		return
	}
	l.stale, l.listing = false, true
	l.p.wg.Add(1)
	go func() {
		defer l.p.wg.Done()
		m, err := loadShardMap(l.p.ctx, l.p.api)
		select {
		case l.listed <- listing{m, err}:
		case <-l.p.ctx.Done():
		}
	}()
}

// add queues r under its predicted shard.
func (l *loop) add(r *record) {
	q := l.queue(l.shards.find(r.hash))
	q.records = append(q.records, r)
	q.bytes += r.size
}

// queue returns the queue of shard id, made on first use.
func (l *loop) queue(id string) *queue {
	q := l.queues[id]
	if q == nil {
		q = &queue{}
		if l.cfg.RateLimit > 0 {
			f := float64(l.cfg.RateLimit) / 100
			q.limits = [2]*rate.Limiter{
				rate.NewLimiter(rate.Limit(1000*f), int(1000*f)),
				rate.NewLimiter(rate.Limit((1<<20)*f), int((1<<20)*f)),
			}
		}
		l.queues[id] = q
	}
	return q
}

// rebucket moves the queued records to the shards a new map predicts.
func (l *loop) rebucket() {
	var all []*record
	for id, q := range l.queues {
		all = append(all, q.records...)
		q.records, q.bytes = nil, 0
		if q.inFlight == 0 {
			delete(l.queues, id)
		}
	}
	// Keep the order records were put in: a queue is oldest first.
	slices.SortStableFunc(all, func(a, b *record) int { return a.put.Compare(b.put) })
	for _, r := range all {
		l.add(r)
	}
}

// dispatch sends every batch that is due, and arms the timer for the next.
func (l *loop) dispatch() {
	if !l.ready {
		return // records wait for the shard map that predicts their shards
	}
	now := l.cfg.Clock.Now()
	urgent := l.p.urgent()
	var next time.Time
	for id, q := range l.queues {
		for len(q.records) > 0 && q.inFlight < l.cfg.MaxInFlightPerShard {
			due := q.records[0].put.Add(l.cfg.MaxBufferedTime)
			if now.Before(q.notBefore) {
				due = q.notBefore
			} else if urgent || l.full(q) {
				due = now
			}
			if now.Before(due) {
				if next.IsZero() || due.Before(next) {
					next = due
				}
				break
			}
			b := l.take(id, q)
			q.inFlight++
			l.send(b, q)
		}
	}
	if !next.IsZero() && (l.timer == nil || !l.timerAt.Equal(next)) {
		if l.timer != nil {
			l.timer.Stop()
		}
		l.timerAt = next
		l.timer = l.cfg.Clock.AfterFunc(next.Sub(now), func() {
			select {
			case l.wake <- struct{}{}:
			default:
			}
		})
	}
}

// full reports whether q holds a whole batch.
func (l *loop) full(q *queue) bool {
	if q.bytes >= l.cfg.MaxBatchBytes {
		return true
	}
	if !l.aggregating() {
		return len(q.records) >= l.cfg.MaxBatchRecords
	}
	return q.bytes >= l.cfg.MaxBatchRecords*l.cfg.AggregationMaxSize
}

func (l *loop) aggregating() bool { return l.cfg.Aggregation && l.shards != nil }

// take makes a batch of q's oldest records.
func (l *loop) take(id string, q *queue) *batch {
	b := &batch{shard: id}
	bytes, i := 0, 0
	// With OrderPerKey no two Kinesis records of a batch carry the same
	// key: a partial failure cannot put a key's later record before its
	// earlier one.
	var keys map[string]int
	if l.cfg.OrderPerKey {
		keys = map[string]int{}
	}
	seen := func(r *record) bool {
		j, ok := keys[r.PartitionKey]
		return ok && j < len(b.inputs)
	}
	agg := &l.agg
	agg.Reset()
	var carried []*record
	flushAgg := func() {
		if agg.Len() == 0 {
			return
		}
		first := carried[0]
		in := shardlog.PutInput{PartitionKey: first.PartitionKey, ExplicitHashKey: first.hash.String(), Data: agg.Encode()}
		if agg.Len() == 1 { // an aggregate of one is a plain record
			in = shardlog.PutInput{PartitionKey: first.PartitionKey, ExplicitHashKey: first.ExplicitHashKey, Data: first.Data}
		}
		b.inputs = append(b.inputs, in)
		b.carried = append(b.carried, carried)
		bytes += len(in.PartitionKey) + len(in.Data)
		agg.Reset()
		carried = nil
	}
	for ; i < len(q.records); i++ {
		r := q.records[i]
		if !l.aggregating() || id == "" {
			if len(b.inputs) == l.cfg.MaxBatchRecords || len(b.inputs) > 0 && bytes+r.size > l.cfg.MaxBatchBytes || seen(r) {
				break
			}
			if keys != nil {
				keys[r.PartitionKey] = len(b.inputs)
			}
			b.inputs = append(b.inputs, shardlog.PutInput{PartitionKey: r.PartitionKey, ExplicitHashKey: r.ExplicitHashKey, Data: r.Data})
			b.carried = append(b.carried, []*record{r})
			bytes += r.size
			continue
		}
		size := agg.SizeWith(r.PartitionKey, r.ExplicitHashKey, len(r.Data))
		if agg.Len() > 0 && (agg.Len() >= l.cfg.AggregationMaxCount || size > l.cfg.AggregationMaxSize) {
			flushAgg()
			size = agg.SizeWith(r.PartitionKey, r.ExplicitHashKey, len(r.Data))
		}
		if len(b.inputs) == l.cfg.MaxBatchRecords || bytes+len(carriedKey(carried, r))+size > l.cfg.MaxBatchBytes && (len(b.inputs) > 0 || agg.Len() > 0) || seen(r) {
			break
		}
		if keys != nil {
			keys[r.PartitionKey] = len(b.inputs) // the aggregate being built
		}
		agg.Add(r.PartitionKey, r.ExplicitHashKey, r.Data)
		carried = append(carried, r)
	}
	flushAgg()
	taken := 0
	for _, c := range b.carried {
		taken += len(c)
	}
	for _, r := range q.records[:taken] {
		q.bytes -= r.size
	}
	q.records = append(q.records[:0:0], q.records[taken:]...)
	return b
}

// carriedKey is the partition key the aggregate being built will carry.
func carriedKey(carried []*record, next *record) string {
	if len(carried) > 0 {
		return carried[0].PartitionKey
	}
	return next.PartitionKey
}

// send puts b in a goroutine of its own, after the shard's rate limit.
func (l *loop) send(b *batch, q *queue) {
	now, users := l.cfg.Clock.Now(), 0
	m := &l.tally
	defer l.p.meters.tally(m)
	for _, c := range b.carried {
		m.add(mUserRecordsPerKinesisRecord, float64(len(c)))
		users += len(c)
		for _, r := range c {
			if r.res.Attempts++; r.res.Attempts == 1 {
				m.add(mBufferingTime, millis(now.Sub(r.put)))
			}
		}
	}
	m.add(mKinesisRecordsPerRequest, float64(len(b.inputs)))
	m.add(mUserRecordsPerRequest, float64(users))
	wait := l.reserve(b, q)
	l.inFlight[b] = struct{}{}
	l.p.wg.Add(1)
	go func() {
		defer l.p.wg.Done()
		ctx := l.p.ctx
		if wait > 0 && !l.sleep(wait) {
			return
		}
		start := l.cfg.Clock.Now()
		res, err := l.p.api.PutBatch(ctx, b.inputs)
		l.p.meters.add(mRequestTime, millis(l.cfg.Clock.Now().Sub(start)))
		select {
		case l.outcomes <- outcome{b, res, err}:
		case <-ctx.Done():
		}
	}()
}

// reserve takes b's records and bytes from q's rate limits and returns how
// long to wait for them.
func (l *loop) reserve(b *batch, q *queue) time.Duration {
	if q.limits[0] == nil {
		return 0
	}
	now := l.cfg.Clock.Now()
	bytes := 0
	for _, in := range b.inputs {
		bytes += len(in.PartitionKey) + len(in.Data)
	}
	var wait time.Duration
	for i, n := range []int{len(b.inputs), bytes} {
		lim := q.limits[i]
		n = min(n, lim.Burst())
		if r := lim.ReserveN(now, n); r.OK() {
			wait = max(wait, r.DelayFrom(now))
		}
	}
	return wait
}

// settle takes a batch's outcome: stored records are done, failed ones are
// retried after a backoff or fail, and a record stored elsewhere than
// predicted makes the map stale.
func (l *loop) settle(o outcome) {
	delete(l.inFlight, o.b)
	if q := l.queues[o.b.shard]; q != nil {
		q.inFlight--
	}
	var again []*record
	m := &l.tally
	defer l.handTally()
	if o.err != nil {
		code := "Exception"
		var e *shardlog.Error
		if errors.As(o.err, &e) {
			code = e.Code
		}
		for _, c := range o.b.carried {
			l.p.meters.addError(code)
			again = append(again, l.failed(c, o.err)...)
		}
		l.retry(again)
		return
	}
	for i, c := range o.b.carried {
		if i >= len(o.res.Records) {
			again = append(again, l.failed(c, errors.New("producer: PutRecords answered fewer records than it was sent"))...)
			continue
		}
		e := o.res.Records[i]
		if e.ErrorCode != "" {
			l.p.meters.addError(e.ErrorCode)
			err := &shardlog.Error{Code: e.ErrorCode, Message: e.ErrorMessage, Retryable: true}
			again = append(again, l.failed(c, err)...)
			continue
		}
		if e.ShardID != o.b.shard {
			l.stale = true
		}
		m.add(mKinesisRecordsPut, 1)
		m.add(mKinesisRecordsDataPut, float64(len(o.b.inputs[i].PartitionKey)+len(o.b.inputs[i].Data)))
		aggregated := len(c) > 1
		for j, r := range c {
			if aggregated && e.ShardID != o.b.shard && l.shards.find(r.hash) != e.ShardID {
				// A consumer that deaggregates drops a user record outside its
				// shard's range, as the KCL does: put it again.
				r.lastErr = errors.New("producer: aggregated into a record that landed on shard " + e.ShardID)
				again = append(again, r)
				continue
			}
			m.add(mUserRecordsPut, 1)
			m.add(mUserRecordsDataPut, float64(len(r.Data)))
			r.res.ShardID, r.res.SequenceNumber = e.ShardID, e.SequenceNumber
			if aggregated {
				r.res.SubSequenceNumber = int64(j)
			}
			l.done(r, nil, &l.tally)
		}
	}
	l.retry(again)
}

// done ends r (see Producer.done); handTally resolves it.
func (l *loop) done(r *record, err error, t *tally) {
	l.p.done(r, err, t)
	l.ended = append(l.ended, r)
}

// handTally hands the tally to the meters, then resolves the records that
// ended meanwhile.
func (l *loop) handTally() {
	l.p.meters.tally(&l.tally)
	for i, r := range l.ended {
		l.p.resolve(r, r.res.Err)
		l.ended[i] = nil
	}
	l.ended = l.ended[:0]
}

// failed returns the records of c to retry after err, failing those that
// cannot be.
func (l *loop) failed(c []*record, err error) []*record {
	if !retryable(err) {
		for _, r := range c {
			l.done(r, err, &l.tally)
		}
		return nil
	}
	for _, r := range c {
		r.lastErr = err
	}
	return c
}

// retryable reports whether retrying can mend err.
func retryable(err error) bool {
	var e *shardlog.Error
	if errors.As(err, &e) {
		switch e.Code {
		case "KMSAccessDeniedException", "KMSDisabledException", "KMSNotFoundException", "KMSInvalidStateException",
			"KMSOptInRequired", shardlog.ErrResourceNotFound.Code, shardlog.ErrAccessDenied.Code, shardlog.ErrValidation.Code,
			shardlog.ErrInvalidArgument.Code:
			return false
		}
		return true
	}
	return !errors.Is(err, context.Canceled)
}

// retry puts rs back at the front of their queues, which wait a backoff
// with full jitter first, and fails those whose RecordTTL has run out.
func (l *loop) retry(rs []*record) {
	now := l.cfg.Clock.Now()
	var again []*record
	attempts := 0
	for _, r := range rs {
		if r.spooled.IsZero() && now.Sub(r.put) >= l.cfg.RecordTTL {
			l.tally.add(mUserRecordExpired, 1)
			l.done(r, errors.Join(ErrExpired, r.lastErr), &l.tally)
			continue
		}
		again = append(again, r)
		attempts = max(attempts, r.res.Attempts)
	}
	if len(again) == 0 {
		return
	}
	ceiling := min(100*time.Millisecond<<min(attempts, 10), 5*time.Second)
	notBefore := now.Add(time.Duration(rand.Int64N(int64(ceiling) + 1)))
	byQueue := map[*queue][]*record{}
	var order []*queue
	for _, r := range again {
		q := l.queue(l.shards.find(r.hash))
		if byQueue[q] == nil {
			order = append(order, q)
		}
		byQueue[q] = append(byQueue[q], r)
	}
	for _, q := range order {
		rs := byQueue[q]
		for _, r := range rs {
			q.bytes += r.size
		}
		q.records = append(rs, q.records...)
		if q.notBefore.Before(notBefore) {
			q.notBefore = notBefore
		}
	}
}

// after runs f on the producer's clock after d, in a goroutine the
// producer waits for on Close.
func (l *loop) after(d time.Duration, f func()) {
	l.p.wg.Add(1)
	go func() {
		defer l.p.wg.Done()
		if l.sleep(d) {
			f()
		}
	}()
}

// sleep waits d on the producer's clock, reporting false if the producer
// stops first.
func (l *loop) sleep(d time.Duration) bool { return shardlog.Sleep(l.p.ctx, l.cfg.Clock, d) == nil }
