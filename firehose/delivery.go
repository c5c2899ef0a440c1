package firehose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardlog/shardlog"
)

// DeliveryStream delivers a stream's records to a Destination, as a
// Firehose delivery stream does. Run does the work.
type DeliveryStream struct {
	cfg               Config
	prefix, errPrefix prefix
	query             query // dynamic partitioning's, if any
	start             shardlog.StartingPosition
	totals            struct{ records, bytes, objects, failed, backedUp, incoming, incomingBytes, lost atomic.Int64 }

	keysMu sync.Mutex
	keys   uint64 // direct put's partition keys: a counter, spread by MD5 over the shards

	buffersMu sync.Mutex
	buffers   map[*shardBuffer]struct{} // the shards being delivered, for DataFreshness

	metrics metricHistory
}

// Totals count what a delivery stream did since it was made.
type Totals struct {
	IncomingRecords, IncomingBytes int64 // taken by PutRecord and PutRecordBatch
	DeliveredRecords               int64 // records in objects Destination (or Backup) took
	DeliveredBytes                 int64 // their bytes, before compression
	Objects                        int64 // objects delivered
	ProcessingFailed               int64 // records the Processor failed, written to the error output
	BackedUp                       int64 // objects that went to Backup after RetryDuration
	// Lost counts records the source removed before they were delivered:
	// past its retention, or its size bound, while the destination failed.
	Lost int64
	// DataFreshness is the age of the oldest record buffered and not yet
	// delivered, on the clock (Firehose's DeliveryTo….DataFreshness); 0
	// when none is.
	DataFreshness time.Duration
}

// New returns a delivery stream for cfg. A KinesisStreamAsSource one
// (DirectPut false) starts reading its source at the time it is made, as
// Firehose does; a direct-put one reads all its stream holds.
func New(cfg Config) (*DeliveryStream, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p, e, err := prefixes(cfg.Prefix, cfg.ErrorOutputPrefix, cfg.Partitioning != nil)
	if err != nil {
		return nil, err
	}
	d := &DeliveryStream{cfg: cfg, prefix: p, errPrefix: e, start: shardlog.StartingPosition{Type: shardlog.TrimHorizon}}
	if cfg.Partitioning != nil {
		if d.query, err = cfg.checkPartitioning(p); err != nil {
			return nil, err
		}
	}
	if !cfg.DirectPut {
		d.start = shardlog.StartingPosition{Type: shardlog.AtTimestamp, Timestamp: cfg.StartTime}
	}
	if err := d.checkKeys(); err != nil {
		return nil, err
	}
	return d, nil
}

// KeyChecker is a Destination that takes only some keys, as Dir takes
// only those naming a file under its folder: a delivery stream whose
// prefixes would make keys it refuses is refused when it is made, rather
// than retrying its objects for ever.
type KeyChecker interface {
	CheckKey(key string) error
}

// checkKeys tries the keys the prefixes make on the destinations that
// check keys; a partition key stands in as "x".
func (d *DeliveryStream) checkKeys() error {
	at := d.cfg.StartTime
	part := &partition{query: d.query, values: make([]string, len(d.query)), lambda: map[string]string{}}
	for i := range part.values {
		part.values[i] = "x"
	}
	for _, k := range d.prefix.keysUsed(fromLambda) {
		part.lambda[k] = "x"
	}
	name := objectName(d.cfg.Name, d.cfg.Version, at, d.cfg.Compression)
	check := func(dest Destination, field, key string) error {
		if kc, ok := dest.(KeyChecker); ok {
			if err := kc.CheckKey(key); err != nil {
				return invalid("%s makes keys such as %q, which the destination refuses: %v", field, key, err)
			}
		}
		return nil
	}
	if err := check(d.cfg.Destination, "Prefix "+strconv.Quote(d.cfg.Prefix), d.prefix.eval(at, "", part)+name); err != nil {
		return err
	}
	errDest := d.cfg.Destination
	if d.cfg.Backup != nil {
		errDest = d.cfg.Backup
	}
	return check(errDest, "ErrorOutputPrefix "+strconv.Quote(d.cfg.ErrorOutputPrefix), d.errPrefix.eval(at, ProcessingFailed, nil)+name)
}

// Name is the delivery stream's name.
func (d *DeliveryStream) Name() string { return d.cfg.Name }

// Totals returns what the delivery stream did so far.
func (d *DeliveryStream) Totals() Totals {
	t := &d.totals
	out := Totals{IncomingRecords: t.incoming.Load(), IncomingBytes: t.incomingBytes.Load(), DeliveredRecords: t.records.Load(),
		DeliveredBytes: t.bytes.Load(), Objects: t.objects.Load(), ProcessingFailed: t.failed.Load(), BackedUp: t.backedUp.Load(),
		Lost: t.lost.Load()}
	now := d.cfg.Clock.Now()
	d.buffersMu.Lock()
	defer d.buffersMu.Unlock()
	for b := range d.buffers {
		if oldest := b.oldestNanos.Load(); oldest != 0 {
			out.DataFreshness = max(out.DataFreshness, now.Sub(time.Unix(0, oldest)))
		}
	}
	return out
}

// Destination is where the delivery stream delivers.
func (d *DeliveryStream) Destination() Destination { return d.cfg.Destination }

func (d *DeliveryStream) track(b *shardBuffer, on bool) {
	d.buffersMu.Lock()
	defer d.buffersMu.Unlock()
	if on {
		if d.buffers == nil {
			d.buffers = map[*shardBuffer]struct{}{}
		}
		d.buffers[b] = struct{}{}
	} else {
		delete(d.buffers, b)
	}
}

// Run delivers until ctx ends, reading the source through the consumer
// group Config.Application: workers of the same delivery stream in other
// processes share the shards. When ctx ends, each shard's buffer is
// delivered once more (without retries) before Run returns; what fails
// then is read again by the next Run.
func (d *DeliveryStream) Run(ctx context.Context) error {
	idle := time.Second
	if iv := time.Duration(d.cfg.Buffering.IntervalInSeconds) * time.Second; iv > 0 && iv < idle {
		idle = iv
	}
	return shardlog.RunWorker(ctx, d.cfg.Source, shardlog.WorkerConfig{
		Application:     d.cfg.Application,
		NewProcessor:    func(shardID string) shardlog.RecordProcessor { return &shardBuffer{d: d, shardID: shardID, run: ctx} },
		InitialPosition: d.start,
		Deaggregate:     true, // Firehose deaggregates KPL records from a Kinesis source
		Leases:          d.cfg.Leases,
		IdleInterval:    idle,
		Clock:           d.cfg.Clock,
		Logger:          d.cfg.Logger,
	})
}

// shardBuffer buffers one shard's records into objects.
type shardBuffer struct {
	d       *DeliveryStream
	shardID string
	run     context.Context // Run's: deliveries retry until it ends
	buf     []byte          // processed records, concatenated
	ends    []int           // where each record in buf ends
	n       int             // records in buf
	oldest  time.Time       // arrival of the oldest record in buf
	started time.Time       // when buf got its first record, on the clock
	failed  []byte          // processing-failed records, JSON lines
	nFailed int             // records in failed
	failAt  time.Time       // arrival of the oldest of them
	batch   []pendingUser   // scratch

	parts   []*partition          // with dynamic partitioning: the partitions buffered, in the order met
	partOf  map[string]*partition // and by partitionID
	values  []string              // scratch
	scratch []byte                // a partition's records, gathered
	scrEnds []int

	oldestNanos atomic.Int64 // oldest, for Totals; 0 while buf is empty
}

type pendingUser struct {
	u      *shardlog.UserRecord // in ProcessRecordsInput.UserRecords
	data   []byte
	lambda map[string]string // the Processor's partition keys
	ok     bool
}

func (b *shardBuffer) Initialize(context.Context, shardlog.InitializeInput) error {
	b.d.track(b, true)
	return nil
}

func (b *shardBuffer) LeaseLost(context.Context, shardlog.LeaseLostInput) {
	b.buf, b.ends, b.n, b.failed, b.nFailed = nil, nil, 0, nil, 0 // another worker reads them again
	b.parts, b.partOf = nil, nil
	b.oldestNanos.Store(0)
	b.d.track(b, false)
}

func (b *shardBuffer) ShardEnded(ctx context.Context, in shardlog.ShardEndedInput) error {
	if err := b.flush(b.run, true); err != nil {
		return err // stopping: the shard's end is read again
	}
	b.d.track(b, false)
	return in.Checkpointer.Checkpoint(ctx)
}

func (b *shardBuffer) ShutdownRequested(ctx context.Context, in shardlog.ShutdownRequestedInput) error {
	defer b.d.track(b, false)
	if b.n == 0 && b.nFailed == 0 {
		return nil
	}
	if err := b.flush(context.WithoutCancel(ctx), false); err != nil {
		return nil // not checkpointed: read again by the next worker
	}
	return in.Checkpointer.Checkpoint(ctx)
}

func (b *shardBuffer) ProcessRecords(ctx context.Context, in shardlog.ProcessRecordsInput) error {
	d := b.d
	now := d.cfg.Clock.Now()
	if in.Lost != nil {
		d.totals.lost.Add(int64(in.Lost.Count))
		d.cfg.Logger.Error("firehose: records were removed from the source before they were delivered",
			"stream", d.cfg.Name, "shard", in.Lost.ShardID, "records", in.Lost.Count, "first", in.Lost.First, "last", in.Lost.Last)
	}
	users := in.UserRecords
	b.batch = slices.Grow(b.batch[:0], len(users))
	defer clear(b.batch) // the records are the group's, reused once this returns
	for i := range users {
		b.batch = append(b.batch, pendingUser{u: &users[i], data: users[i].Data, ok: true})
	}
	if d.cfg.Processor != nil && len(b.batch) > 0 {
		b.process(ctx, now)
	}
	limit := d.cfg.Buffering.SizeInMBs << 20
	incoming := 0
	for i := range b.batch {
		incoming += len(b.batch[i].data) + 1 // and a newline
	}
	if need := len(b.buf) + incoming; need > cap(b.buf) {
		// A busy shard's buffer is made at the size hint and some, once,
		// rather than doubled through fresh memory record by record; a
		// quiet shard's stays as small as its traffic.
		if need > limit/8 {
			need = limit + limit/4 // a flush empties it at the size hint
		}
		b.buf = append(make([]byte, 0, need), b.buf...)
	}
	for i := range b.batch {
		p := &b.batch[i]
		if p.ok {
			b.add(p, now)
		}
		boundary := i == len(b.batch)-1 || b.batch[i+1].u.SequenceNumber != p.u.SequenceNumber
		if boundary && len(b.buf) >= limit {
			if err := b.flush(b.run, true); err != nil {
				return nil // stopping: not checkpointed, read again
			}
			if err := in.Checkpointer.CheckpointAt(ctx, p.u.SequenceNumber); err != nil {
				return err
			}
		}
	}
	interval := time.Duration(d.cfg.Buffering.IntervalInSeconds) * time.Second
	due := b.n > 0 && now.Sub(b.started) >= interval || b.nFailed > 0 && b.n == 0
	if due || b.n == 0 && b.nFailed == 0 && len(users) > 0 {
		if err := b.flush(b.run, true); err != nil {
			return nil // stopping: not checkpointed, read again
		}
		return in.Checkpointer.Checkpoint(ctx)
	}
	return nil
}

// add buffers a record, in its partition with dynamic partitioning; a
// record whose partition cannot be had goes to the error output.
func (b *shardBuffer) add(p *pendingUser, now time.Time) {
	d := b.d
	var part *partition
	if d.cfg.Partitioning != nil {
		var code, msg string
		if part, code, msg = b.partition(p); part == nil {
			b.fail(p, 1, code, msg, "")
			return
		}
	}
	if b.n == 0 {
		b.oldest, b.started = p.u.ApproximateArrivalTimestamp, now
		b.oldestNanos.Store(b.oldest.UnixNano())
	}
	if part != nil {
		if len(part.records) == 0 {
			part.oldest = p.u.ApproximateArrivalTimestamp
		}
		part.records = append(part.records, b.n)
	}
	b.buf = append(b.buf, p.data...)
	if d.cfg.AppendNewline {
		b.buf = append(b.buf, '\n')
	}
	b.ends = append(b.ends, len(b.buf))
	b.n++
}

// partition returns the partition of a record, or why it has none: an
// error code and message.
func (b *shardBuffer) partition(p *pendingUser) (*partition, string, string) {
	d := b.d
	values := b.values[:0]
	if d.query != nil {
		var err error
		if values, err = d.query.keys(p.data, values); err != nil {
			return nil, codeExtractionFailed, err.Error()
		}
		b.values = values
	}
	for _, k := range d.prefix.keysUsed(fromLambda) {
		if _, ok := p.lambda[k]; !ok {
			return nil, codeExtractionFailed, "The Processor gave no partition key " + k + "."
		}
	}
	id := partitionID(values, p.lambda)
	if part := b.partOf[id]; part != nil {
		return part, "", ""
	}
	if len(b.parts) >= d.cfg.Partitioning.MaxPartitions {
		return nil, codePartitionsExceeded, fmt.Sprintf("The shard buffers %d partitions already.", len(b.parts))
	}
	part := &partition{query: d.query, values: slices.Clone(values), lambda: p.lambda}
	if key := d.prefix.eval(time.Unix(0, 0), "", part) + "x"; !validKey(key) {
		return nil, codeExtractionFailed, fmt.Sprintf("The partition keys make the key %q, which names no file under a folder.", key)
	}
	if b.partOf == nil {
		b.partOf = map[string]*partition{}
	}
	b.partOf[id] = part
	b.parts = append(b.parts, part)
	return part, "", ""
}

// fail sends a record to the error output, in Firehose's failure format.
func (b *shardBuffer) fail(p *pendingUser, attempts int, code, msg, lambdaARN string) {
	d := b.d
	p.ok = false
	line, _ := json.Marshal(failure{AttemptsMade: attempts, ArrivalTimestamp: p.u.ApproximateArrivalTimestamp.UnixMilli(), ErrorCode: code,
		ErrorMessage: msg, AttemptEndingTimestamp: d.cfg.Clock.Now().UnixMilli(), RawData: p.u.Data, LambdaARN: lambdaARN})
	if b.nFailed == 0 {
		b.failAt = p.u.ApproximateArrivalTimestamp
	}
	b.failed = append(append(b.failed, line...), '\n')
	b.nFailed++
	d.totals.failed.Add(1)
}

// process runs the Processor over the batch, marking what it drops or
// fails; failed records are kept for the error output.
func (b *shardBuffer) process(ctx context.Context, now time.Time) {
	d := b.d
	recs := make([]ProcessorRecord, len(b.batch))
	byID := make(map[string]int, len(b.batch))
	for i, p := range b.batch {
		id := fmt.Sprintf("%s-%d", p.u.SequenceNumber, p.u.SubSequenceNumber)
		recs[i] = ProcessorRecord{RecordID: id, ApproximateArrivalTimestamp: p.u.ApproximateArrivalTimestamp, Data: bytes.Clone(p.u.Data), // the stream's own memory stays out of its reach
			ShardID: p.u.ShardID, PartitionKey: p.u.PartitionKey, SequenceNumber: p.u.SequenceNumber.String(), SubsequenceNumber: p.u.SubSequenceNumber}
		byID[id] = i
	}
	var results []ProcessorResult
	var err error
	attempts := 0
	for attempts <= processorRetries {
		attempts++
		if results, err = d.cfg.Processor(ctx, recs); err == nil {
			break
		}
	}
	fail := func(i int, code, msg string) { b.fail(&b.batch[i], attempts, code, msg, d.cfg.ProcessorARN) }
	if err != nil {
		for i := range b.batch {
			fail(i, "Lambda.FunctionError", err.Error())
		}
		return
	}
	seen := make([]bool, len(b.batch))
	for _, r := range results {
		i, ok := byID[r.RecordID]
		switch {
		case !ok || seen[i]:
			continue // an unknown or repeated ID: the record it should have named fails below
		case r.Result == Ok:
			b.batch[i].data, b.batch[i].lambda = r.Data, r.PartitionKeys
		case r.Result == Dropped:
			b.batch[i].ok = false
		case r.Result == ProcessingFailedResult:
			fail(i, "Lambda.ProcessingFailedStatus", "The record's processing result was ProcessingFailed.")
		default:
			fail(i, "Lambda.InvalidResult", fmt.Sprintf("The record's result %q is not Ok, Dropped or ProcessingFailed.", r.Result))
		}
		seen[i] = true
	}
	for i, s := range seen {
		if !s {
			fail(i, "Lambda.MissingRecordId", "The Processor returned no result for the record.")
		}
	}
}

// flush delivers the buffer and the failed records, retrying (see
// deliver); retry false makes one attempt each.
func (b *shardBuffer) flush(ctx context.Context, retry bool) error {
	d := b.d
	if b.nFailed > 0 {
		dest := d.cfg.Destination
		if d.cfg.Backup != nil {
			dest = d.cfg.Backup
		}
		key := d.errPrefix.eval(b.failAt, ProcessingFailed, nil) + objectName(d.cfg.Name, d.cfg.Version, b.failAt, d.cfg.Compression)
		if err := d.put(ctx, dest, key, b.failed, retry); err != nil {
			return err
		}
		b.failed, b.nFailed = b.failed[:0], 0
	}
	if b.n == 0 {
		return nil
	}
	if d.cfg.Partitioning == nil {
		if err := d.deliver(ctx, b.buf, b.ends, b.oldest, nil, retry); err != nil {
			return err
		}
		d.totals.objects.Add(1)
	}
	for len(b.parts) > 0 {
		part := b.parts[0]
		b.scratch, b.scrEnds = b.scratch[:0], b.scrEnds[:0]
		for _, i := range part.records {
			start := 0
			if i > 0 {
				start = b.ends[i-1]
			}
			b.scratch = append(b.scratch, b.buf[start:b.ends[i]]...)
			b.scrEnds = append(b.scrEnds, len(b.scratch))
		}
		if err := d.deliver(ctx, b.scratch, b.scrEnds, part.oldest, part, retry); err != nil {
			return err // the partitions delivered are not delivered again by the next flush
		}
		d.totals.objects.Add(1)
		b.parts = b.parts[1:]
	}
	d.totals.records.Add(int64(b.n))
	d.totals.bytes.Add(int64(len(b.buf)))
	b.buf, b.ends, b.n = b.buf[:0], b.ends[:0], 0
	b.parts, b.partOf = b.parts[:0], nil
	b.oldestNanos.Store(0)
	return nil
}

// RecordDestination is a Destination that takes records one by one
// rather than as an object, as an HTTP endpoint does (see HTTPEndpoint).
type RecordDestination interface {
	Destination
	PutRecords(ctx context.Context, records [][]byte) error
}

// deliver puts the buffered records to Destination — as an object, or as
// records to a RecordDestination — retrying with backoff for
// RetryDuration (at once for a permanent failure), then to Backup under
// the error output prefix; without Backup, or if it fails too, it goes on
// retrying Destination until ctx ends.
func (d *DeliveryStream) deliver(ctx context.Context, buf []byte, ends []int, oldest time.Time, part *partition, retry bool) error {
	rd, byRecord := d.cfg.Destination.(RecordDestination)
	var records [][]byte
	var key string
	if byRecord {
		for start, i := 0, 0; i < len(ends); start, i = ends[i], i+1 {
			records = append(records, buf[start:ends[i]])
		}
	} else {
		key = d.prefix.eval(oldest, "", part) + objectName(d.cfg.Name, d.cfg.Version, oldest, d.cfg.Compression)
		buf = d.compress(buf, key)
	}
	begun := d.cfg.Clock.Now()
	for attempts, wait := 1, time.Second; ; attempts, wait = attempts+1, min(2*wait, 2*time.Minute) {
		var err error
		if byRecord {
			err = rd.PutRecords(ctx, records)
		} else {
			err = d.cfg.Destination.Put(ctx, key, buf)
		}
		now := d.cfg.Clock.Now()
		if err == nil {
			d.note(now, mDeliveryRecords, float64(len(ends)), float64(ends[len(ends)-1]), 1, now.Sub(oldest).Seconds())
			return nil
		}
		d.note(now, mDeliverySuccess, 0)
		if !retry || ctx.Err() != nil {
			return err
		}
		var de *DeliveryError
		permanent := errors.As(err, &de) && de.Permanent
		d.cfg.Logger.Warn("firehose: delivery failed", "stream", d.cfg.Name, "attempts", attempts, "permanent", permanent, "err", err)
		if d.cfg.Backup != nil && (permanent || d.cfg.Clock.Now().Sub(begun) >= d.cfg.RetryDuration) {
			errType, body := DeliveryFailed, buf
			if byRecord {
				errType, body = HTTPEndpointFailed, d.failures(records, oldest, attempts, err)
			}
			bkey := d.errPrefix.eval(oldest, errType, nil) + objectName(d.cfg.Name, d.cfg.Version, oldest, d.cfg.Compression)
			if byRecord {
				body = d.compress(body, bkey)
			}
			if err := d.cfg.Backup.Put(ctx, bkey, body); err == nil {
				d.totals.backedUp.Add(1)
				return nil
			}
		}
		jitter := time.Duration(float64(wait) * (0.85 + 0.3*rand.Float64())) // ±15 %, as Firehose's
		if err := shardlog.Sleep(ctx, d.cfg.Clock, jitter); err != nil {
			return err
		}
	}
}

// failures writes records a RecordDestination did not take as Firehose's
// failure records, JSON lines.
func (d *DeliveryStream) failures(records [][]byte, oldest time.Time, attempts int, err error) []byte {
	code, msg := codeDestination, err.Error()
	var de *DeliveryError
	if errors.As(err, &de) {
		code, msg = de.Code, de.Message
	}
	var out []byte
	now := d.cfg.Clock.Now().UnixMilli()
	for _, r := range records {
		line, _ := json.Marshal(failure{AttemptsMade: attempts, ArrivalTimestamp: oldest.UnixMilli(), ErrorCode: code,
			ErrorMessage: msg, AttemptEndingTimestamp: now, RawData: r})
		out = append(append(out, line...), '\n')
	}
	return out
}

// put writes an object to dest, compressed, retrying until it succeeds
// (or once, without retry).
func (d *DeliveryStream) put(ctx context.Context, dest Destination, key string, body []byte, retry bool) error {
	body = d.compress(body, key)
	for wait := time.Second; ; wait = min(2*wait, 2*time.Minute) {
		err := dest.Put(ctx, key, body)
		if err == nil || !retry || ctx.Err() != nil {
			return err
		}
		d.cfg.Logger.Warn("firehose: writing the error output failed; retrying", "stream", d.cfg.Name, "key", key, "err", err)
		if err := shardlog.Sleep(ctx, d.cfg.Clock, wait); err != nil {
			return err
		}
	}
}
