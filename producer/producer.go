// Package producer writes records to a stream the way the Kinesis Producer
// Library does: Put buffers a record and returns at once with a Result;
// records are batched per shard into PutRecords calls (by count, bytes and
// a linger time), optionally aggregated in the KPL's format, retried with
// backoff when Kinesis fails some of them, rate-limited to the shards'
// capacity, and bounded in memory.
//
// It is written against shardlog.StreamAPI only, so the same producer
// writes to an embedded stream, to shardlogd, or to Amazon Kinesis through
// the module github.com/shardlog/shardlog/aws.
//
// The easy mistake with PutRecords, taking its 200 answer for success when
// some records failed, cannot happen here: every record's Result says
// where it was stored, or why it was not.
package producer

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/hashkey"
)

// Errors of Put.
var (
	// ErrClosed is Put's answer after Close.
	ErrClosed = errors.New("producer: closed")
	// ErrBufferFull is Put's answer with Config.FailWhenFull when the
	// buffer has no room.
	ErrBufferFull = errors.New("producer: buffer full")
	// ErrExpired wraps a record's last failure once its RecordTTL ran out.
	ErrExpired = errors.New("producer: record expired before it could be put")
)

// Record is a user record: what Put writes.
type Record struct {
	PartitionKey string
	// ExplicitHashKey, if set, places the record instead of the partition
	// key's MD5, as in PutRecord.
	ExplicitHashKey string
	Data            []byte
}

// record is a Record on its way.
type record struct {
	Record
	hash    hashkey.Key
	size    int // partition key and data: what a shard's limit counts
	res     *Result
	spooled shardlog.SequenceNumber // its place in the spool; zero if not spooled
	put     time.Time               // for RecordTTL
	lastErr error
}

// Producer writes records to one stream. It is safe for concurrent use.
type Producer struct {
	api shardlog.StreamAPI
	cfg Config

	in   chan *record
	poke chan struct{} // wakes the loop: a flush began
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup
	puts sync.WaitGroup // Puts past their reservation, on their way to the loop

	mu       sync.Mutex
	flushing int
	closed   bool
	records  int           // buffered: put and not done
	bytes    int64         // their bytes
	room     chan struct{} // closed when room frees, if waiters
	waiters  int           // Puts waiting for room
	idle     chan struct{} // closed while nothing is buffered
	leftover []*record     // the loop's records when it stopped

	spool  *spool // with Config.SpoolDir
	meters meters
}

// New returns a producer writing to stream. Close it to stop its
// goroutines.
func New(stream shardlog.StreamAPI, cfg Config) (*Producer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var sp *spool
	if cfg.SpoolDir != "" {
		if sp, err = openSpool(cfg.SpoolDir, cfg); err != nil {
			return nil, err
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	p := &Producer{spool: sp, meters: meters{clock: cfg.Clock},
		api: stream, cfg: cfg, in: make(chan *record, 1024), poke: make(chan struct{}, 1),
		ctx: ctx, stop: stop, room: make(chan struct{}), idle: make(chan struct{}),
	}
	close(p.idle)
	l := newLoop(p)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.leftover = l.run()
	}()
	if sp != nil {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			sp.forward(ctx, p)
		}()
	}
	return p, nil
}

// Put buffers a record with this partition key and data (which it copies)
// and returns its Result at once; the record is sent within
// MaxBufferedTime. It blocks while the buffer is full (until ctx ends),
// unless Config.FailWhenFull.
//
// Errors: a *shardlog.Error (ErrValidation) for a key or record Kinesis
// would refuse; ErrBufferFull; ErrClosed; ctx's error.
func (p *Producer) Put(ctx context.Context, partitionKey string, data []byte) (*Result, error) {
	return p.PutRecord(ctx, Record{PartitionKey: partitionKey, Data: data})
}

// PutRecord is Put for a Record, with its explicit hash key if it has one.
func (p *Producer) PutRecord(ctx context.Context, rec Record) (*Result, error) {
	r := &record{Record: Record{PartitionKey: rec.PartitionKey, ExplicitHashKey: rec.ExplicitHashKey}}
	if err := r.check(len(rec.Data)); err != nil {
		return nil, err
	}
	p.meters.received(p.cfg.Clock.Now())
	if p.spool != nil {
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		if closed {
			return nil, ErrClosed
		}
		res := newResult()
		if err := p.spool.append(ctx, rec, r.size, res, p.cfg.SpoolMaxBytes, p.cfg.FailWhenFull); err != nil {
			return nil, err
		}
		return res, nil
	}
	if err := p.reserve(ctx, r.size, false); err != nil {
		return nil, err
	}
	defer p.puts.Done()
	r.Data = append([]byte(nil), rec.Data...)
	r.res, r.put = newResult(), p.cfg.Clock.Now()
	select {
	case p.in <- r:
		return r.res, nil
	case <-p.ctx.Done():
		p.resolve(r, ErrClosed)
		return nil, ErrClosed
	}
}

// enqueue hands the loop a record read back from the spool, once the
// buffer has room.
func (p *Producer) enqueue(ctx context.Context, r *record) error {
	if err := p.reserve(ctx, r.size, true); err != nil {
		return err
	}
	defer p.puts.Done()
	r.put = p.cfg.Clock.Now()
	select {
	case p.in <- r:
		return nil
	case <-ctx.Done():
		p.release(r) // its Result is the spool's to end (see spool.abandon)
		return ctx.Err()
	}
}

// check validates a record as PutRecords would and computes its hash key.
func (r *record) check(data int) error {
	r.size = len(r.PartitionKey) + data
	if n := keyUnits(r.PartitionKey); n < 1 || n > 256 {
		return &shardlog.Error{Code: shardlog.ErrValidation.Code, Message: "A partition key has 1 to 256 characters."}
	}
	if r.size > maxRecordBytes {
		return &shardlog.Error{Code: shardlog.ErrValidation.Code, Message: "A record's data and partition key exceed 1 MiB."}
	}
	if r.ExplicitHashKey == "" {
		r.hash = hashkey.FromMD5(r.PartitionKey)
		return nil
	}
	k, err := hashkey.Parse(r.ExplicitHashKey)
	if err != nil {
		return &shardlog.Error{Code: shardlog.ErrInvalidArgument.Code, Message: "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was " + r.ExplicitHashKey}
	}
	r.hash = k
	return nil
}

// keyUnits is the length of key in UTF-16 code units, as Kinesis counts a
// partition key's characters, without converting it.
func keyUnits(key string) int {
	n := 0
	for _, r := range key {
		if r > 0xFFFF {
			n += 2 // a surrogate pair
		} else {
			n++
		}
	}
	return n
}

// reserve takes room for a record of size bytes in the buffer; a Put's
// only before Close, a spooled record's until the producer stops.
func (p *Producer) reserve(ctx context.Context, size int, spooled bool) error {
	for {
		p.mu.Lock()
		if p.closed && !spooled {
			p.mu.Unlock()
			return ErrClosed
		}
		fits := p.records == 0 || p.records < p.cfg.MaxBufferedRecords && p.bytes+int64(size) <= p.cfg.MaxBufferedBytes
		if fits {
			if p.records == 0 {
				p.idle = make(chan struct{})
			}
			p.records++
			p.bytes += int64(size)
			p.puts.Add(1) // under mu: never after Close has begun to wait
			p.mu.Unlock()
			return nil
		}
		if p.cfg.FailWhenFull {
			p.mu.Unlock()
			return ErrBufferFull
		}
		room := p.room
		p.waiters++
		p.mu.Unlock()
		var err error
		select {
		case <-room:
		case <-ctx.Done():
			err = ctx.Err()
		case <-p.ctx.Done():
			err = ErrClosed
		}
		p.mu.Lock()
		p.waiters--
		p.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// done ends r as the loop decided: stored (err nil), or failed for good,
// its metrics in t. A spooled record is then passed in the spool. The
// caller resolves it once t is in the meters: who sees a Result done
// sees its metrics.
func (p *Producer) done(r *record, err error, t *tally) {
	t.add(mRetriesPerRecord, float64(max(r.res.Attempts-1, 0)))
	if err != nil {
		t.add(mUserRecordsPut, 0)
	}
	r.res.Err = err
	if p.spool != nil && !r.spooled.IsZero() {
		p.spool.forwarded(r)
	}
}

// resolve ends r with err (nil: stored, its Result filled in already) and
// frees its room. Only the loop resolves a record it took, and Close once
// the loop has stopped.
func (p *Producer) resolve(r *record, err error) {
	r.res.Err = err
	p.release(r)
	r.res.finish()
}

// release frees r's room in the buffer.
func (p *Producer) release(r *record) {
	p.mu.Lock()
	p.records--
	p.bytes -= int64(r.size)
	if p.waiters > 0 {
		close(p.room)
		p.room = make(chan struct{})
	}
	if p.records == 0 {
		close(p.idle)
	}
	p.mu.Unlock()
}

// Flush sends every buffered record without waiting out MaxBufferedTime,
// and waits until none is left buffered (records put meanwhile included),
// or until ctx ends.
func (p *Producer) Flush(ctx context.Context) error {
	p.mu.Lock()
	p.flushing++
	idle := p.idle
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.flushing--
		p.mu.Unlock()
	}()
	select {
	case p.poke <- struct{}{}:
	default:
	}
	if p.spool != nil {
		if err := p.spool.drained(ctx); err != nil {
			return err
		}
	}
	for {
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
		p.mu.Lock()
		if p.records == 0 {
			p.mu.Unlock()
			return nil
		}
		idle = p.idle
		p.mu.Unlock()
	}
}

// buffered returns how many records are put and not done.
func (p *Producer) buffered() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.records
}

// urgent reports whether a Flush is in progress.
func (p *Producer) urgent() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.flushing > 0
}

// Close stops taking records, sends those buffered and waits for them, then
// stops the producer's goroutines. If ctx ends first, the records still
// buffered fail with ctx's error. Close returns once no goroutine of the
// producer is left; later calls return nil.
func (p *Producer) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.room) // Puts waiting for room see closed
	p.room = make(chan struct{})
	p.mu.Unlock()
	err := p.Flush(ctx)
	p.stop()
	p.wg.Wait()
	p.puts.Wait()
	why := err
	if why == nil {
		why = ErrClosed
	}
	for _, r := range p.leftover {
		p.resolve(r, why)
	}
	for {
		select {
		case r := <-p.in: // put as the loop stopped
			p.resolve(r, why)
			continue
		default:
		}
		break
	}
	if p.spool != nil {
		p.spool.abandon(why)
		if cerr := p.spool.close(); err == nil {
			err = cerr
		}
	}
	return err
}
