package shardlog

import (
	"cmp"
	"context"
	"errors"
	"iter"
	"slices"
	"strconv"
	"time"

	"github.com/shardlog/shardlog/internal/segment"
	"github.com/shardlog/shardlog/internal/seqnum"
	"github.com/shardlog/shardlog/internal/token"
)

// IteratorType says where reading starts.
type IteratorType string

// Iterator types, as in GetShardIterator.
const (
	AtSequenceNumber    IteratorType = "AT_SEQUENCE_NUMBER"    // at the given record
	AfterSequenceNumber IteratorType = "AFTER_SEQUENCE_NUMBER" // just after it
	TrimHorizon         IteratorType = "TRIM_HORIZON"          // at the oldest live record
	Latest              IteratorType = "LATEST"                // just after the newest record
	AtTimestamp         IteratorType = "AT_TIMESTAMP"          // at the first record that arrived at or after Timestamp
)

// StartingPosition says where to start reading a shard. [At] and [After]
// make the positions of a record.
type StartingPosition struct {
	Type IteratorType
	// SequenceNumber is required by AT_ and AFTER_SEQUENCE_NUMBER and not
	// allowed with TRIM_HORIZON and LATEST.
	SequenceNumber SequenceNumber
	// Timestamp is required by AT_TIMESTAMP; millisecond precision.
	Timestamp time.Time
}

// iteratorTTL is how long a shard iterator stays valid.
const iteratorTTL = 5 * time.Minute

// maxGetRecords is the most records one GetRecords call returns.
const maxGetRecords = 10000

// GetShardIterator returns an iterator for reading shardID from p with
// GetRecords. It is valid for five minutes. On a closed shard it is still
// returned; reading it reaches the shard's end.
//
// Errors: ErrValidation for a malformed shard ID or unknown type,
// ErrResourceNotFound for a missing stream or shard, ErrInvalidArgument for
// a position that does not fit the type or the shard.
func (s *Stream) GetShardIterator(ctx context.Context, shardID string, p StartingPosition) (string, error) {
	if err := s.authorize(ctx, "GetShardIterator"); err != nil {
		return "", err
	}
	now, err := s.enter(ctx)
	if err != nil {
		return "", err
	}
	if err := s.acct.fault(ctx, "GetShardIterator", s.name, shardIndexOr(shardID)); err != nil {
		return "", err
	}
	if i, ok := resolveShardID(shardID); ok {
		if err := s.acct.admit("GetShardIterator", s.name, i); err != nil {
			return "", err
		}
	}
	sh, pos, err := s.seek(now, shardID, p)
	if err != nil {
		return "", err
	}
	return s.iteratorToken(sh, max(pos, sh.seg.Head()), now), nil
}

// seek resolves a shard and a starting position in it, which may be below
// the shard's head if the record asked for was trimmed.
func (s *Stream) seek(now time.Time, id string, p StartingPosition) (*shard, uint64, error) {
	if err := s.usable(now); err != nil {
		return nil, 0, err
	}
	if err := checkName("shardId", id); err != nil {
		return nil, 0, err
	}
	switch p.Type {
	case AtSequenceNumber, AfterSequenceNumber, TrimHorizon, Latest, AtTimestamp:
	default:
		return nil, 0, validation("shardIteratorType", string(p.Type),
			"satisfy enum value set: [AFTER_SEQUENCE_NUMBER, AT_SEQUENCE_NUMBER, AT_TIMESTAMP, TRIM_HORIZON, LATEST]")
	}
	if seq := p.SequenceNumber.String(); seq != "" && !seqnum.Valid(seq) {
		return nil, 0, validation("startingSequenceNumber", seq, "satisfy regular expression pattern: 0|([1-9]\\d{0,128})")
	}
	i, ok := resolveShardID(id)
	if !ok {
		return nil, 0, s.shardNotFound(id)
	}
	sh := s.shardAt(i)
	if sh == nil || sh.expired(now.Add(-s.retention())) {
		return nil, 0, s.noShard(shardID(i))
	}
	sh.expire(now)
	pos, err := s.position(sh, now, p)
	return sh, pos, err
}

// shardNotFound answers a shard ID that names no shard, in Kinesis's words.
func (s *Stream) shardNotFound(id string) *Error {
	return newError(ErrResourceNotFound, "Could not find shard %s in stream %s under account %s.", id, s.name, s.acct.cfg.accountID)
}

func (s *Stream) noShard(id string) *Error {
	return newError(ErrResourceNotFound, "Shard %s in stream %s under account %s does not exist", id, s.name, s.acct.cfg.accountID)
}

// shard returns the shard with the given ID, or nil (also once expired).
func (s *Stream) shard(id string) *shard {
	i, ok := parseShardIndex(id)
	if !ok {
		return nil
	}
	return s.shardAt(i)
}

// shardAt returns the shard with index i, or nil (also once expired).
func (s *Stream) shardAt(i uint32) *shard {
	return findShard(s.shardList(), i)
}

// shardAtLocked is shardAt with s.mu held.
func (s *Stream) shardAtLocked(i uint32) *shard { return findShard(s.shards, i) }

func findShard(all []*shard, i uint32) *shard {
	j, ok := slices.BinarySearchFunc(all, i, func(sh *shard, i uint32) int { return cmp.Compare(sh.index, i) })
	if !ok {
		return nil
	}
	return all[j]
}

// position turns a starting position in sh into a storage position.
func (s *Stream) position(sh *shard, now time.Time, p StartingPosition) (uint64, error) {
	account := s.acct.cfg.accountID
	head, tail := sh.seg.Head(), sh.seg.Len()
	seq := p.SequenceNumber.String()
	switch p.Type {
	case TrimHorizon, Latest:
		if seq != "" {
			return 0, newError(ErrInvalidArgument, "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified %s and also a StartingSequenceNumber.", p.Type)
		}
		if p.Type == TrimHorizon {
			return head, nil
		}
		return tail, nil
	case AtTimestamp:
		if p.Timestamp.IsZero() {
			return 0, newError(ErrInvalidArgument, "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.")
		}
		ms, nowMS := unixMilli(p.Timestamp), now.UnixMilli()
		if ms > nowMS {
			return 0, newError(ErrInvalidArgument, "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: %d, currentTimestampInMillis: %d", ms, nowMS)
		}
		return sh.seg.SearchMillis(ms), nil
	}
	if seq == "" {
		return 0, newError(ErrInvalidArgument, "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified %s and no StartingSequenceNumber.", p.Type)
	}
	n, err := seqnum.Parse(seq)
	if err != nil {
		return 0, newError(ErrInvalidArgument, "StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid.", seq, sh.id, s.name, account)
	}
	if n.Shard != sh.index {
		return 0, newError(ErrInvalidArgument, "Invalid StartingSequenceNumber. It encodes %s, while it was used in a call to a shard with %s", shardID(n.Shard), sh.id)
	}
	if n.Stream != s.inc {
		return 0, newError(ErrInvalidArgument, "StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid because it did not come from this stream.", seq, sh.id, s.name, account)
	}
	pos := n.Counter // AFTER: the record after counter n sits at position n
	if p.Type == AtSequenceNumber && pos > 0 {
		pos--
	}
	// Numbers past the tip (such as a closed shard's EndingSequenceNumber)
	// start at the tip. A position below the head is kept: cursors start at
	// the oldest live record anyway, and the in-process readers report what
	// was trimmed (see LostRecordsError).
	return min(pos, tail), nil
}

// iteratorToken encodes a shard iterator: where to read and when it was made.
func (s *Stream) iteratorToken(sh *shard, pos uint64, now time.Time) string {
	var w token.Writer
	w.B = make([]byte, 0, 64+len(s.name))
	w.U32(s.inc)
	w.U32(sh.index)
	w.U64(pos)
	w.U64(uint64(now.UnixMilli()))
	w.Str(s.name)
	return s.acct.codec.Encode(token.Iterator, w.B)
}

// iterator is an opened shard iterator.
type iterator struct {
	inc    uint32
	shard  uint32
	pos    uint64
	issued time.Time
	stream string
}

func (a *Account) openIterator(tok string, now time.Time) (iterator, error) {
	switch {
	case tok == "":
		return iterator{}, validation("shardIterator", "", "have length greater than or equal to 1")
	case len(tok) > 512:
		return iterator{}, validation("shardIterator", tok, "have length less than or equal to 512")
	}
	raw, err := a.codec.Decode(token.Iterator, tok)
	if err != nil {
		return iterator{}, newError(ErrInvalidArgument, "Invalid ShardIterator.")
	}
	r := token.Reader{B: raw}
	it := iterator{inc: r.U32(), shard: r.U32(), pos: r.U64(), issued: time.UnixMilli(int64(r.U64())), stream: r.Str()}
	if r.Err() != nil {
		return iterator{}, newError(ErrInvalidArgument, "Invalid ShardIterator.")
	}
	if now.Sub(it.issued) > iteratorTTL {
		const javaDate = "Mon Jan 02 15:04:05 MST 2006"
		return it, newError(ErrExpiredIterator, // it: for the metrics of its shard
			"Iterator expired. The iterator was created at time %s while right now it is %s which is further in the future than the tolerated delay of %d milliseconds.",
			it.issued.UTC().Format(javaDate), now.UTC().Format(javaDate), iteratorTTL.Milliseconds())
	}
	return it, nil
}

// GetRecordsInput is the input of GetRecords.
type GetRecordsInput struct {
	ShardIterator string // from GetShardIterator or a previous GetRecords
	Limit         int    // 1 to 10000; 0 means 10000
	StreamARN     string // optional; must name the iterator's stream
}

// GetRecordsOutput is the result of GetRecords.
type GetRecordsOutput struct {
	// Records are in sequence-number order. Their keys and data share the
	// shard's storage and must not be modified.
	Records []Record
	// NextShardIterator continues after Records. It is empty once the end of
	// a closed shard has been reached; ChildShards then lists the shards
	// that continue it.
	NextShardIterator string
	// MillisBehindLatest is how far behind the current time the reader is:
	// zero when Records reach the shard's newest record.
	MillisBehindLatest int64
	ChildShards        []ChildShard
	EncryptionType     EncryptionType // the stream's: "NONE" or "KMS"
}

// GetRecords reads the records an iterator points at, up to Limit records
// and 10 MiB, and returns an iterator for what follows. The iterator may
// come from any stream of the account.
//
// Errors: ErrValidation for a malformed iterator or limit,
// ErrInvalidArgument for an iterator that shardlog did not issue or a
// StreamARN that does not match it, ErrExpiredIterator after five minutes,
// ErrResourceNotFound if the iterator's stream has been deleted,
// ErrProvisionedThroughputExceeded over the shard's read limits.
func (a *Account) GetRecords(ctx context.Context, in GetRecordsInput) (GetRecordsOutput, error) {
	var out GetRecordsOutput
	err := a.GetRecordsInto(ctx, in, &out)
	return out, err
}

// GetRecordsInto is [Account.GetRecords] writing its result into out and
// reusing the storage of out.Records: a reader that keeps one
// GetRecordsOutput across calls reads without allocating per record. The
// records of the previous call are overwritten. On error out is cleared.
func (a *Account) GetRecordsInto(ctx context.Context, in GetRecordsInput, out *GetRecordsOutput) error {
	buf := out.Records[:0]
	*out = GetRecordsOutput{}
	if err := a.enter(ctx); err != nil {
		return err
	}
	now := a.cfg.clock.Now()
	limit, err := getRecordsLimit(in.Limit)
	if err != nil {
		return err
	}
	it, err := a.openIterator(in.ShardIterator, now)
	if errors.Is(err, ErrExpiredIterator) && a.authorizeResource(ctx, "GetRecords", a.StreamARN(it.stream)) == nil {
		if s, _ := a.Stream(StreamRef{StreamName: it.stream}); s != nil {
			s.meterExpired(it, now, err)
		}
	}
	if err != nil {
		return err
	}
	if err := a.authorizeResource(ctx, "GetRecords", a.StreamARN(it.stream)); err != nil {
		return err
	}
	s, err := a.Stream(StreamRef{StreamName: it.stream})
	if err != nil {
		return err
	}
	if s.inc != it.inc {
		return a.notFound(it.stream)
	}
	if err := a.fault(ctx, "GetRecords", s.name, int64(it.shard)); err != nil {
		return err
	}
	return s.getRecords(ctx, now, it, limit, in.StreamARN, buf, out)
}

// GetRecords is [Account.GetRecords] for an iterator of this stream; an
// iterator of another stream gives ErrInvalidArgument.
func (s *Stream) GetRecords(ctx context.Context, in GetRecordsInput) (GetRecordsOutput, error) {
	var out GetRecordsOutput
	err := s.GetRecordsInto(ctx, in, &out)
	return out, err
}

// GetRecordsInto is [Account.GetRecordsInto] for an iterator of this stream.
func (s *Stream) GetRecordsInto(ctx context.Context, in GetRecordsInput, out *GetRecordsOutput) error {
	if err := s.authorize(ctx, "GetRecords"); err != nil {
		return err
	}
	buf := out.Records[:0]
	*out = GetRecordsOutput{}
	now, err := s.enter(ctx)
	if err != nil {
		return err
	}
	limit, err := getRecordsLimit(in.Limit)
	if err != nil {
		return err
	}
	it, err := s.acct.openIterator(in.ShardIterator, now)
	if errors.Is(err, ErrExpiredIterator) {
		s.meterExpired(it, now, err)
	}
	if err != nil {
		return err
	}
	if it.inc != s.inc || it.stream != s.name {
		return newError(ErrInvalidArgument, "Invalid ShardIterator.")
	}
	if err := s.acct.fault(ctx, "GetRecords", s.name, int64(it.shard)); err != nil {
		return err
	}
	return s.getRecords(ctx, now, it, limit, in.StreamARN, buf, out)
}

// getRecordsLimit applies GetRecords' Limit: 0 means the most, 10 000.
func getRecordsLimit(n int) (int, error) {
	switch {
	case n == 0:
		return maxGetRecords, nil
	case n < 1:
		return 0, validation("limit", strconv.Itoa(n), "have value greater than or equal to 1")
	case n > maxGetRecords:
		return 0, validation("limit", strconv.Itoa(n), "have value less than or equal to 10000")
	}
	return n, nil
}

// getRecords is GetRecords once its iterator is open: find the shard, apply
// retention and the read limits, read a batch into buf and out.
func (s *Stream) getRecords(ctx context.Context, now time.Time, it iterator, limit int, streamARN string, buf []Record, out *GetRecordsOutput) error {
	if streamARN != "" && streamARN != s.arn {
		return newError(ErrInvalidArgument, "StreamARN %s does not match the stream of the shard iterator.", streamARN)
	}
	sh := s.shardAt(it.shard)
	if sh == nil || sh.expired(now.Add(-s.retention())) {
		return s.noShard(shardID(it.shard))
	}
	sh.expire(now)
	if !sh.read.begin(now) {
		sh.meterRead(now, nil, true, 0, 0, 0, 0)
		return sh.throttleError()
	}
	n, gens, err := s.readBatch(sh, now, it.pos, limit, buf, out)
	sh.read.charge(now, n)
	if err == nil {
		err = s.authorizeDecrypt(ctx, gens)
	}
	if err != nil {
		sh.meterRead(now, err, false, 0, 0, 0, 0)
		*out = GetRecordsOutput{}
		return err
	}
	out.EncryptionType = s.encryptionType()
	// The iterator's age: that of the last record read, else how far
	// behind the tip the iterator is (0 at the tip).
	age := out.MillisBehindLatest
	if k := len(out.Records); k > 0 {
		age = max(0, now.UnixMilli()-out.Records[k-1].ApproximateArrivalTimestamp.UnixMilli())
	}
	// Reads from memory take no measurable time; reads from files may.
	sh.meterRead(now, nil, false, n, len(out.Records), age, s.waited(now, s.acct.store != nil))
	return nil
}

// readBatch reads from pos in sh into buf and builds a GetRecords result in
// out; it returns the bytes read and the generations of the data keys the
// records were sealed with (bit g-1 for generation g).
func (s *Stream) readBatch(sh *shard, now time.Time, pos uint64, limit int, buf []Record, out *GetRecordsOutput) (n int, gens uint64, err error) {
	tail, final := sh.tail()
	c := sh.seg.Cursor(pos)
	bytes := 0
	var r segment.Record
	if avail := tail - min(max(pos, sh.seg.Head()), tail); uint64(cap(buf)) < min(uint64(limit), avail) {
		buf = make([]Record, 0, min(uint64(limit), avail))
	}
	out.Records = buf[:0]
	if out.Records == nil {
		out.Records = []Record{}
	}
	for len(out.Records) < limit && c.Pos() < tail && c.Next(&r) {
		size := recordSize(&r)
		if len(out.Records) > 0 && bytes+size > maxReadBytes {
			c.Seek(r.Pos)
			break
		}
		bytes += size
		if r.Gen == 0 {
			out.Records = append(out.Records, sh.plainRecord(&r))
			continue
		}
		rec, err := sh.sealedRecord(&r)
		if err != nil {
			return bytes, gens, err
		}
		gens |= 1 << (r.Gen - 1)
		out.Records = append(out.Records, rec)
	}
	next := c.Pos()
	if err := c.Err(); err != nil && len(out.Records) == 0 {
		// A read must not turn damage into an empty answer: it fails, for
		// as long as the iterator points at it.
		return bytes, gens, sh.readError(err)
	}
	if final && len(out.Records) == 0 && next >= tail {
		out.ChildShards = sh.childShards()
		return bytes, gens, nil
	}
	if ms, ok := sh.seg.Millis(next); ok && next < tail {
		out.MillisBehindLatest = max(0, now.UnixMilli()-ms)
	}
	out.NextShardIterator = s.iteratorToken(sh, next, now)
	return bytes, gens, nil
}

// record makes a Record of a stored one, opening its data if it was sealed
// (see encryption.go): then it fails with the KMS error of an unusable key,
// or InternalFailure for data that was altered.
func (sh *shard) record(r *segment.Record) (Record, error) {
	if r.Gen != 0 {
		return sh.sealedRecord(r)
	}
	return sh.plainRecord(r), nil
}

// plainRecord is record for a record stored as it was put: the read loops
// call it directly, a single result being cheaper to return.
func (sh *shard) plainRecord(r *segment.Record) Record {
	return Record{
		SequenceNumber:              sh.seq(r.Pos),
		ShardID:                     sh.id,
		PartitionKey:                r.Key,
		Data:                        r.Data,
		ApproximateArrivalTimestamp: time.UnixMilli(r.Millis).UTC(),
	}
}

// sealedRecord is record for a sealed record.
func (sh *shard) sealedRecord(r *segment.Record) (Record, error) {
	key, data, err := sh.crypto.openRecord(r.Gen, sh.index, r.Slab, r.Pos, r.Key, r.Data)
	if err != nil {
		if sh.files != nil && errors.Is(err, ErrInternalFailure) {
			sh.files.noteAltered(r.Slab, sh.seq(r.Pos), err)
		}
		return Record{}, err
	}
	return Record{
		SequenceNumber:              sh.seq(r.Pos),
		ShardID:                     sh.id,
		PartitionKey:                key,
		Data:                        data,
		ApproximateArrivalTimestamp: time.UnixMilli(r.Millis).UTC(),
	}, nil
}

// recordSize is the bytes a stored record counts for in read limits: its
// key and data as they were put.
func recordSize(r *segment.Record) int {
	switch {
	case r.Gen == 0:
	case r.Key == "":
		return len(r.Data) - sealOverhead - keyPrefix
	default:
		return len(r.Key) + len(r.Data) - sealOverhead
	}
	return len(r.Key) + len(r.Data)
}

// Records returns an iterator over shardID's records from p up to the
// newest record at the time the iteration starts. Records removed by
// retention or a size bound before they were read are reported by a
// [*LostRecordsError] (also when p names a record removed already), after
// which reading goes on; any other error (a bad shard or position, a
// cancelled ctx) is yielded once, as the last pair. The records share the
// shard's storage and must not be modified. In-process reads do not count
// against GetRecords rate limits.
func (s *Stream) Records(ctx context.Context, shardID string, p StartingPosition) iter.Seq2[Record, error] {
	return s.readSeq(ctx, shardID, p, false)
}

// Tail is like Records but does not stop at the newest record: it waits for
// new ones, without polling, until ctx is done (yielding ctx.Err()), the
// account closes (ErrClosed), the stream is deleted (ErrResourceNotFound),
// or it has read a closed shard to its end (ending without an error). Each
// iteration starts from p; use a new Tail to resume elsewhere.
func (s *Stream) Tail(ctx context.Context, shardID string, p StartingPosition) iter.Seq2[Record, error] {
	return s.readSeq(ctx, shardID, p, true)
}

func (s *Stream) readSeq(ctx context.Context, shardID string, p StartingPosition, follow bool) iter.Seq2[Record, error] {
	// The function stays small, its work in shardReader, so that the
	// compiler inlines it into the caller's loop, and the caller's loop body
	// into it: a call per record costs as much again as reading it.
	return func(yield func(Record, error) bool) {
		r, err := s.newShardReader(ctx, shardID, p, follow)
		for err == nil {
			for r.c.Pos() < r.stop && r.c.Next(&r.rec) {
				// A record that does not open (its key is unusable) is
				// the last pair.
				if r.rec.Pos != r.next && !yield(Record{}, r.lost(r.rec.Pos)) || !yield(r.record()) || r.openErr != nil {
					r.close()
					return
				}
				r.next = r.rec.Pos + 1
			}
			if r.c.Pos() > r.next && !yield(Record{}, r.lost(r.c.Pos())) {
				r.close()
				return
			}
			err = r.more(yield)
		}
		if err != errEnd {
			yield(Record{}, err)
		}
		r.close()
	}
}

// shardReader is the state of a Records or Tail iteration.
type shardReader struct {
	cursorOn
	s       *Stream
	ctx     context.Context
	stop    uint64
	follow  bool
	wake    chan struct{} // made when a Tail first waits
	rec     segment.Record
	openErr error // why the last record did not open (see record)
}

// record returns the record at r.rec, or why it does not open (noted in
// openErr too). It is plainRecord's body, not a call to it: one call per
// record, not two, in the loop it serves.
func (r *shardReader) record() (Record, error) {
	if r.rec.Gen != 0 {
		rec, err := r.sh.sealedRecord(&r.rec)
		r.openErr = err
		return rec, err
	}
	return Record{
		SequenceNumber:              r.sh.seq(r.rec.Pos),
		ShardID:                     r.sh.id,
		PartitionKey:                r.rec.Key,
		Data:                        r.rec.Data,
		ApproximateArrivalTimestamp: time.UnixMilli(r.rec.Millis).UTC(),
	}, nil
}

// errEnd ends an iteration without an error.
var errEnd = errors.New("shardlog: end of the records")

func (s *Stream) newShardReader(ctx context.Context, shardID string, p StartingPosition, follow bool) (*shardReader, error) {
	if err := s.authorize(ctx, "GetRecords"); err != nil {
		return nil, err
	}
	if err := s.authorizeDecrypt(ctx, s.crypto.allGens()); err != nil {
		return nil, err
	}
	r := &shardReader{s: s, ctx: ctx, follow: follow}
	now, err := s.enter(ctx)
	if err != nil {
		return r, err
	}
	sh, pos, err := s.seek(now, shardID, p)
	if err != nil {
		return r, err
	}
	if err := s.acct.fault(ctx, "GetRecords", s.name, int64(sh.index)); err != nil {
		return r, err
	}
	if err := s.interrupted(ctx); err != nil {
		return r, err
	}
	r.sh, r.c, r.stop, r.next = sh, sh.seg.Cursor(pos), sh.seg.Len(), pos
	return r, nil
}

// more decides what follows reading up to r.stop: errEnd, an error, or
// nil once there are more records (for a Tail, which it waits for), or
// damaged ones, which it yields and passes (errEnd if the loop stops then).
func (r *shardReader) more(yield func(Record, error) bool) error {
	if d, to, ok := r.sh.damaged(r.c.Err()); ok {
		if !yield(Record{}, d) {
			return errEnd
		}
		r.c.Seek(to) // the loop goes on: past the damage
		r.next = to
		return nil
	}
	if err := r.c.Err(); err != nil {
		return r.sh.storageError(err)
	}
	if !r.follow {
		return errEnd
	}
	s := r.s
	if r.wake == nil {
		r.wake = make(chan struct{}, 1)
	}
	if err := s.wait(r.ctx, r.sh, r.c.Pos(), r.wake); err != nil {
		if err == errShardEnd {
			return errEnd
		}
		return err
	}
	if err := s.interrupted(r.ctx); err != nil {
		return err
	}
	r.sh.expire(s.acct.cfg.clock.Now())
	r.stop = r.sh.seg.Len()
	return nil
}

func (r *shardReader) close() {
	if r.wake != nil {
		r.sh.unawait(r.wake)
	}
}

// errShardEnd tells a tailing reader that a closed shard has no more records.
var errShardEnd = errors.New("shardlog: end of a closed shard")

// interrupted reports why a long read must stop now, if it must.
func (s *Stream) interrupted(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.acct.closed.Load() {
		return ErrClosed
	}
	select {
	case <-s.gone:
		return s.acct.notFound(s.name)
	default:
		return nil
	}
}

// wait blocks until sh has a record at pos, returning errShardEnd if it is
// closed and has none, or an error if the wait was cut short. wake is the
// reader's signal channel (see shard.await).
func (s *Stream) wait(ctx context.Context, sh *shard, pos uint64, wake chan struct{}) error {
	for {
		n, final := sh.tail()
		switch {
		case n > pos:
			return nil
		case final:
			return errShardEnd
		case !sh.await(pos, wake):
			continue // appended or closed meanwhile
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.acct.done:
			return ErrClosed
		case <-s.gone:
			return s.acct.notFound(s.name)
		}
	}
}
