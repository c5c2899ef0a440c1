package shardlog

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/btree"
	"github.com/shardlog/shardlog/iam"
	"github.com/shardlog/shardlog/internal/hashkey"
	"github.com/shardlog/shardlog/internal/seqnum"
)

// StreamStatus is a stream's state.
type StreamStatus string

// Stream states. Reads and writes work in ACTIVE, UPDATING and DELETING.
const (
	StatusCreating StreamStatus = "CREATING"
	StatusActive   StreamStatus = "ACTIVE"
	StatusUpdating StreamStatus = "UPDATING"
	StatusDeleting StreamStatus = "DELETING"
	statusGone     StreamStatus = ""
)

// Stream is a named, ordered, sharded log of records. Get one from
// [Account.Stream] or [NewStream]. A Stream is safe for concurrent use; its
// methods are the single entry point of each Kinesis stream operation.
//
// A *Stream stays bound to the stream it was obtained for: once that stream
// is deleted, its methods return ErrResourceNotFound even if a new stream
// of the same name is created.
type Stream struct {
	acct    *Account
	name    string
	arn     string
	inc     uint32    // incarnation, unique in the account; in sequence numbers and tokens
	created time.Time // CreateStream's time
	owner   bool      // made by NewStream: Close closes acct

	times atomic.Pointer[streamTimes] // replaced whole under mu
	route atomic.Pointer[router]      // the open shards; replaced under mu by a clone of openTree
	gone  chan struct{}               // closed when the stream is deleted
	scale scaler                      // measures an ON_DEMAND stream's shards

	keys   atomic.Pointer[keyCache]   // partition key → hash key; nil until the first put
	policy atomic.Pointer[iam.Policy] // the resource-based policy; nil for none (set under mu)
	kms    atomic.Bool                // settings.encryption is KMS; for the put and read paths
	crypto streamCrypto               // data keys (WithKeyRing)

	retentionNanos atomic.Int64 // the retention period
	live           usage        // what the stream's shards hold

	metrics  metricsHistory // CloudWatch's metrics (metrics.go)
	enhanced atomic.Uint32  // the shard-level metrics on: monitorBits(settings.metrics)

	mu sync.RWMutex // guards the fields below and writes to times and route
	// shards holds the shards not expired, in index order. No element a
	// reader may have seen is changed in place (expiry builds a new slice;
	// appends write past every published length), so a slice read under mu
	// stays valid after mu is released.
	shards       []*shard
	nextShard    uint32                   // the index the next new shard gets
	openTree     *btree.BTreeG[routeItem] // the open shards by hash; route publishes clones
	scalingOps   []time.Time              // UpdateShardCount calls in the last 24 hours
	modeSwitches []time.Time              // UpdateStreamMode switches in the last 24 hours
	pending      []closing                // shards the reshard in progress will close
	consumers    map[string]*consumer
	tags         map[string]string
	settings     settings
	onCommit     []func() // what an update does once its change is persisted
	onAbort      []func() // what it undoes beyond saveLocked if persisting fails
}

// streamTimes are the instants a stream's status derives from.
type streamTimes struct {
	active   time.Time // CREATING before it
	updating time.Time // UPDATING before it (after active)
	deleted  time.Time // zero, or when DeleteStream was called
	gone     time.Time // with deleted set: no longer exists from then on
}

// router finds the open shard for a hash key. It is immutable once
// published, so Put reads it without a lock: its tree is a clone of the
// stream's openTree that nothing changes or clones again. (google/btree
// clones lazily, copying a node only when one side writes to it, so a
// reshard costs the nodes it touches, not the whole tree.)
type router struct {
	tree *btree.BTreeG[routeItem]
	open int
	only *shard // the single open shard, if there is one
}

type routeItem struct {
	start hashkey.Key
	sh    *shard
}

func routeLess(a, b routeItem) bool { return a.start.Less(b.start) }

func newRouter(tree *btree.BTreeG[routeItem]) *router {
	r := &router{tree: tree, open: tree.Len()}
	if r.open == 1 {
		it, _ := tree.Min()
		r.only = it.sh
	}
	return r
}

func (r *router) find(h hashkey.Key) *shard {
	if r.only != nil {
		return r.only
	}
	var sh *shard
	r.tree.DescendLessOrEqual(routeItem{start: h}, func(it routeItem) bool {
		sh = it.sh
		return false
	})
	return sh
}

// shards returns the open shards in hash order, in a new slice.
func (r *router) shards() []*shard {
	out := make([]*shard, 0, r.open)
	r.tree.Ascend(func(it routeItem) bool {
		out = append(out, it.sh)
		return true
	})
	return out
}

func newStream(a *Account, name string, inc uint32, now time.Time, ranges []hashkey.Range) *Stream {
	s := &Stream{
		acct:    a,
		name:    name,
		arn:     a.StreamARN(name),
		inc:     inc,
		created: now.UTC(), // UTC, as it reads back from a durable account
		gone:    make(chan struct{}),
	}
	s.times.Store(&streamTimes{active: now.Add(a.cfg.delays.Create)})
	s.settings = settings{mode: Provisioned, encryption: EncryptionNone}
	s.retentionNanos.Store(int64(a.cfg.retention))
	for _, r := range ranges {
		s.shards = append(s.shards, newShard(s, s.nextShard, r, now))
		s.nextShard++
	}
	s.openTree = btree.NewG(16, routeLess)
	for _, sh := range s.shards {
		s.openTree.ReplaceOrInsert(routeItem{start: sh.rng.Start, sh: sh})
	}
	s.route.Store(newRouter(s.openTree.Clone()))
	return s
}

// Name returns the stream's name.
func (s *Stream) Name() string { return s.name }

// ARN returns the stream's ARN.
func (s *Stream) ARN() string { return s.arn }

// Account returns the account the stream belongs to.
func (s *Stream) Account() *Account { return s.acct }

// Close closes the account behind a stream made by [NewStream], which owns
// it. A stream obtained from an Account does not: Close then does nothing
// and returns ErrNotOwner, and the Account is closed by its own Close.
func (s *Stream) Close() error {
	if s.owner {
		return s.acct.Close()
	}
	return ErrNotOwner
}

// ErrNotOwner is returned by Close on a stream that an Account owns.
var ErrNotOwner = errors.New("shardlog: the stream belongs to an Account: close the Account instead")

// NewStream returns a stream of shardCount shards in an account of its own,
// for users who want just one log. opts configure that account. Close the
// stream to release it. With [WithDir], a directory that already holds the
// stream opens it as it was closed: shardCount applies only to a new one.
func NewStream(name string, shardCount int, opts ...Option) (*Stream, error) {
	a, err := NewAccount(opts...)
	if err != nil {
		return nil, err
	}
	s, err := a.Stream(StreamRef{StreamName: name})
	if err != nil || s.statusAt(a.cfg.clock.Now()) == StatusDeleting {
		s, err = a.CreateStream(context.Background(), CreateStreamInput{StreamName: name, ShardCount: shardCount})
	}
	if err != nil {
		a.Close()
		return nil, err
	}
	s.owner = true
	return s, nil
}

func (s *Stream) statusAt(now time.Time) StreamStatus {
	t := s.times.Load()
	switch {
	case !t.deleted.IsZero() && !now.Before(t.gone):
		return statusGone
	case !t.deleted.IsZero():
		return StatusDeleting
	case now.Before(t.active):
		return StatusCreating
	case now.Before(t.updating):
		return StatusUpdating
	}
	return StatusActive
}

// usable checks that the stream can serve data operations at now: it exists
// and is past CREATING.
func (s *Stream) usable(now time.Time) error {
	switch s.statusAt(now) {
	case statusGone, StatusCreating:
		return s.acct.notFound(s.name)
	}
	return nil
}

// update runs change with the stream locked if the stream is ACTIVE, and
// then marks it UPDATING for the update delay, unless change failed or
// returned errUnchanged. It is the frame of every operation that changes a
// stream's shape or settings.
func (s *Stream) update(ctx context.Context, change func(now time.Time) error) error {
	return s.updateFor(ctx, s.acct.cfg.delays.Update, change)
}

// updateFor is update, UPDATING for the given time (none: the stream stays
// ACTIVE).
func (s *Stream) updateFor(ctx context.Context, updating time.Duration, change func(now time.Time) error) error {
	now, err := s.enter(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch st := s.statusAt(now); st {
	case StatusActive:
	case statusGone:
		return s.acct.notFound(s.name)
	default:
		return newError(ErrResourceInUse, "Stream %s under account %s not ACTIVE, instead in state %s", s.name, s.acct.cfg.accountID, st)
	}
	// Closed shards that expired go first, for good: a failed change puts
	// back what it found, and must not bring back a shard whose files are
	// gone.
	s.expireShardsLocked(now)
	saved := s.saveLocked()
	s.onCommit, s.onAbort = s.onCommit[:0], s.onAbort[:0]
	switch err := change(now); err {
	case nil:
	case errUnchanged:
		return nil
	default:
		s.restoreLocked(saved) // a change may fail after it began
		for _, f := range s.onAbort {
			f()
		}
		return err
	}
	t := *s.times.Load()
	t.updating = now.Add(updating)
	if st := s.acct.store; st != nil {
		m := s.metaLocked(now)
		m.Updating = nanos(t.updating)
		if err := st.persist(s.inc, m); err != nil {
			s.restoreLocked(saved)
			for _, f := range s.onAbort {
				f()
			}
			return err
		}
	}
	s.times.Store(&t)
	for _, f := range s.onCommit {
		f()
	}
	return nil
}

// errUnchanged tells update that a change was accepted but changed nothing.
var errUnchanged = errors.New("shardlog: unchanged")

// enter is the first step of every stream operation.
func (s *Stream) enter(ctx context.Context) (time.Time, error) {
	if err := s.acct.enter(ctx); err != nil {
		return time.Time{}, err
	}
	now := s.acct.cfg.clock.Now()
	if s.statusAt(now) == statusGone {
		return now, s.acct.notFound(s.name)
	}
	return now, nil
}

// closeFiles closes the files of a stream whose deletion finished.
func (s *Stream) closeFiles() {
	for _, sh := range s.shardList() {
		sh.mu.Lock()
		sh.files.closeLocked()
		sh.mu.Unlock()
	}
}

// shardList returns the shards not expired, in index order. The slice is
// copy-on-write (see Stream.shards): read it, never change it.
func (s *Stream) shardList() []*shard {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.shards
}

func (s *Stream) openShardCount() int { return s.route.Load().open }

// markDeleted starts the stream's deletion. The account's lock is held.
func (s *Stream) markDeleted(now time.Time, force bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := *s.times.Load()
	if !t.deleted.IsZero() {
		return newError(ErrResourceInUse, "Stream %s under account %s is already being deleted.", s.name, s.acct.cfg.accountID)
	}
	s.purgeConsumersLocked(now)
	if len(s.consumers) > 0 && !force {
		return newError(ErrResourceInUse, "Stream %s under account %s has registered consumers; delete them first or set EnforceConsumerDeletion.", s.name, s.acct.cfg.accountID)
	}
	t.deleted = now
	t.gone = now.Add(s.acct.cfg.delays.Delete)
	if s.acct.store != nil {
		m := s.metaLocked(time.Time{})
		m.Deleted, m.Gone = nanos(t.deleted), nanos(t.gone)
		if err := s.acct.store.persistFreeing(s.inc, m); err != nil {
			return err
		}
	}
	s.times.Store(&t)
	close(s.gone)
	s.acct.releaseShards(s.openShardCount()) // no reshard follows: the stream is not ACTIVE
	s.endSubscriptionsLocked(s.acct.notFound(s.name))
	return nil
}

// StreamDescriptionSummary is the output of DescribeStreamSummary.
type StreamDescriptionSummary struct {
	StreamName              string
	StreamARN               string
	StreamStatus            StreamStatus
	StreamMode              StreamMode
	RetentionPeriodHours    int
	StreamCreationTimestamp time.Time
	EncryptionType          EncryptionType // "NONE" or "KMS"
	KeyID                   string
	ShardLevelMetrics       []string // enhanced monitoring
	OpenShardCount          int
	ConsumerCount           int
	MaxRecordSizeInKiB      int
}

// DescribeStreamSummary describes the stream without listing its shards.
func (s *Stream) DescribeStreamSummary(ctx context.Context) (StreamDescriptionSummary, error) {
	if _, err := s.begin(ctx, "DescribeStreamSummary"); err != nil {
		return StreamDescriptionSummary{}, err
	}
	return s.summary(ctx)
}

func (s *Stream) summary(ctx context.Context) (StreamDescriptionSummary, error) {
	now, err := s.enter(ctx)
	if err != nil {
		return StreamDescriptionSummary{}, err
	}
	set := s.currentSettings()
	return StreamDescriptionSummary{
		StreamName:              s.name,
		StreamARN:               s.arn,
		StreamStatus:            s.statusAt(now),
		StreamMode:              set.mode,
		RetentionPeriodHours:    s.retentionHours(),
		StreamCreationTimestamp: s.created,
		EncryptionType:          set.encryption,
		KeyID:                   set.keyID,
		ShardLevelMetrics:       set.metrics,
		OpenShardCount:          s.openShardCount(),
		ConsumerCount:           s.consumerCount(now),
		MaxRecordSizeInKiB:      s.acct.cfg.maxRecordSize >> 10,
	}, nil
}

// StreamDescription is the output of DescribeStream: the summary plus a
// page of shards.
type StreamDescription struct {
	StreamDescriptionSummary
	Shards        []Shard
	HasMoreShards bool
}

// DescribeStreamInput is the input of DescribeStream.
type DescribeStreamInput struct {
	Limit                 int    // 1 to 10000; 0 means 100; at most 100 are returned
	ExclusiveStartShardID string // list the shards after this one
}

// DescribeStream describes the stream and a page of its shards. A
// CREATING stream lists no shards.
func (s *Stream) DescribeStream(ctx context.Context, in DescribeStreamInput) (StreamDescription, error) {
	if _, err := s.begin(ctx, "DescribeStream"); err != nil {
		return StreamDescription{}, err
	}
	sum, err := s.summary(ctx)
	if err != nil {
		return StreamDescription{}, err
	}
	limit, err := pageLimit("limit", in.Limit, 100, 100)
	if err != nil {
		return StreamDescription{}, err
	}
	out := StreamDescription{StreamDescriptionSummary: sum, Shards: []Shard{}}
	if sum.StreamStatus == StatusCreating {
		return out, nil
	}
	page, err := s.listShards(ctx, ListShardsInput{ExclusiveStartShardID: in.ExclusiveStartShardID, MaxResults: limit})
	if err != nil {
		return StreamDescription{}, err
	}
	out.Shards, out.HasMoreShards = page.Shards, page.NextToken != ""
	return out, nil
}

// Put writes one record, as PutRecord. The record goes to the open shard
// whose hash range holds its hash key; its data is copied.
//
// Errors: ErrValidation or ErrInvalidArgument for bad input,
// ErrResourceNotFound if the stream does not exist or is still CREATING,
// ErrProvisionedThroughputExceeded if the shard is over its write limit.
func (s *Stream) Put(ctx context.Context, in PutInput) (PutOutput, error) {
	if err := s.authorize(ctx, "PutRecord"); err != nil {
		return PutOutput{}, err
	}
	now, err := s.enter(ctx)
	if err != nil {
		return PutOutput{}, err
	}
	_, h, err := s.checkRecord(&in, -1)
	if err != nil {
		return PutOutput{}, err
	}
	if err := s.usable(now); err != nil {
		return PutOutput{}, err
	}
	if err := s.keyReady(ctx); err != nil {
		return PutOutput{}, err
	}
	var after seqnum.Number
	ordering := in.SequenceNumberForOrdering.String()
	if ordering != "" {
		if after, err = s.orderingNumber(ordering); err != nil {
			return PutOutput{}, err
		}
	}
	timed := false // the call may wait: measure its latency
	if s.acct.faults.active.Load() != 0 {
		if err := s.acct.fault(ctx, "PutRecord", s.name, int64(s.route.Load().find(h).index)); err != nil {
			return PutOutput{}, err
		}
		timed = true
	}
	size := len(in.PartitionKey) + len(in.Data)
	for {
		sh := s.route.Load().find(h)
		if after.Shard > sh.index {
			return PutOutput{}, s.badOrderingNumber(ordering)
		}
		sh.mu.Lock()
		pos, st, err := sh.appendLocked(now, in.PartitionKey, h, in.Data)
		sh.flushLocked()
		epoch := sh.durability.epoch
		syncing := st == appended && sh.sync == syncAlways
		if st != closed && !syncing {
			sh.meterPutLocked(now, st, size, s.waited(now, timed))
		}
		sh.mu.Unlock()
		switch st {
		case appended:
			if syncing {
				err := sh.awaitDurable(pos, epoch)
				sh.mu.Lock()
				sh.meterPutLocked(now, statusOf(err), size, s.waited(now, true))
				sh.mu.Unlock()
				if err != nil {
					return PutOutput{}, err
				}
			}
			s.enforceBounds()
			s.maybeScale(now)
			return PutOutput{ShardID: sh.id, SequenceNumber: sh.seq(pos), EncryptionType: s.encryptionType()}, nil
		case throttled:
			return PutOutput{}, sh.throttleError()
		case failed:
			return PutOutput{}, err
		}
		// The shard closed under us: the new router is published already.
	}
}

// orderingNumber checks a SequenceNumberForOrdering: a number this stream
// has issued, or one of Kinesis's own layout (copied from AWS) that Kinesis
// would accept. The latter cannot be compared with this stream's numbers,
// so it orders nothing: the zero Number is returned for it.
func (s *Stream) orderingNumber(v string) (seqnum.Number, error) {
	n, err := seqnum.Parse(v)
	if err != nil {
		switch seqnum.AWSVerdict(v, s.acct.cfg.clock.Now()) {
		case seqnum.AWSValid:
			return seqnum.Number{}, nil
		case seqnum.AWSInternalFailure:
			return n, newError(ErrInternalFailure, "")
		}
		return n, s.badOrderingNumber(v)
	}
	if n.Stream != s.inc {
		return n, s.badOrderingNumber(v)
	}
	s.mu.RLock()
	sh := s.shardAtLocked(n.Shard)
	ok := sh != nil && n.Counter <= sh.seg.Len()
	s.mu.RUnlock()
	if !ok {
		return n, s.badOrderingNumber(v)
	}
	return n, nil
}

func (s *Stream) badOrderingNumber(v string) *Error {
	return newError(ErrInvalidArgument, "ExclusiveMinimumSequenceNumber %s used in PutRecord on stream %s under account %s is invalid.", v, s.name, s.acct.cfg.accountID)
}

// maxBatchRecords is the most records one PutBatch takes.
const maxBatchRecords = 500

// PutBatch writes up to 500 records, as PutRecords. Records that go to the
// same shard are stored in request order. A shard over its write limit
// fails only its own records: the result then has a non-zero
// FailedRecordCount and per-record error codes, and err is nil. The whole
// call fails only for invalid input or a missing stream, and then nothing
// is written.
func (s *Stream) PutBatch(ctx context.Context, records []PutInput) (PutBatchOutput, error) {
	var out PutBatchOutput
	err := s.PutBatchInto(ctx, records, &out)
	return out, err
}

// PutBatchInto is PutBatch writing its result into out and reusing the
// storage of out.Records: a producer that keeps one PutBatchOutput across
// calls puts without allocating. On error out is cleared.
func (s *Stream) PutBatchInto(ctx context.Context, records []PutInput, out *PutBatchOutput) error {
	if err := s.authorize(ctx, "PutRecords"); err != nil {
		return err
	}
	kept := out.Records[:0]
	*out = PutBatchOutput{}
	now, err := s.enter(ctx)
	if err != nil {
		return err
	}
	switch {
	case len(records) == 0:
		return validation("records", "", "have length greater than or equal to 1")
	case len(records) > maxBatchRecords:
		return validation("records", "", "have length less than or equal to 500")
	}
	cfg := &s.acct.cfg
	var hashes [maxBatchRecords]hashkey.Key
	total := 0
	for i := range records {
		size, h, err := s.checkRecord(&records[i], i)
		if err != nil {
			return err
		}
		hashes[i] = h
		total += size
	}
	if total > cfg.maxBatchSize {
		return newError(ErrInvalidArgument, "Records size exceeds %d MB limit", cfg.maxBatchSize>>20)
	}
	if err := s.usable(now); err != nil {
		return err
	}
	if err := s.keyReady(ctx); err != nil {
		return err
	}
	timed := s.acct.faults.active.Load() != 0 // the call may wait: measure its latency
	failing, err := s.acct.failedRecords(ctx, s.name)
	if err != nil {
		return err
	}
	if cap(kept) < len(records) {
		kept = make([]BatchEntry, len(records))
	}
	out.Records, out.EncryptionType = kept[:len(records)], s.encryptionType()
	clear(out.Records)
	var held *shard         // the shard whose lock is held
	var heldLast int64 = -1 // the last position appended there in this hold
	var touched []touchedShard
	// Shards left with appends not yet published: publishing (and waking
	// readers) once per shard rather than at every switch of shards keeps
	// a batch spread over many shards from costing a wake-up per record.
	var unflushedBuf [16]*shard
	unflushed := unflushedBuf[:0]
	// Each shard's share of the call, for enhanced monitoring only.
	var tallyBuf [16]batchTally
	var tallies []batchTally
	if s.monitored() != 0 {
		tallies = tallyBuf[:0]
	}
	tally := 0 // tallies[tally] is held's
	release := func() {
		if held != nil {
			if !slices.Contains(unflushed, held) {
				unflushed = append(unflushed, held)
			}
			if held.sync == syncAlways && heldLast >= 0 {
				touched = addTouched(touched, held, uint64(heldLast))
			}
			held.mu.Unlock()
		}
	}
	rt := s.route.Load()
	for i := range records {
		if failing != nil && failing[i] != nil {
			out.Records[i] = BatchEntry{ErrorCode: failing[i].Code, ErrorMessage: failing[i].Message}
			out.FailedRecordCount++
			continue
		}
		for {
			sh := rt.find(hashes[i])
			if sh != held {
				release()
				held, heldLast = sh, -1
				sh.mu.Lock()
				if tallies != nil {
					tallies, tally = tallyOf(tallies, sh)
				}
			}
			pos, st, err := sh.appendLocked(now, records[i].PartitionKey, hashes[i], records[i].Data)
			if st == closed {
				rt = s.route.Load()
				continue
			}
			e := &out.Records[i]
			switch st {
			case appended:
				e.ShardID, e.SequenceNumber = sh.id, sh.seq(pos)
				heldLast = int64(pos)
			case throttled:
				e.ErrorCode = ErrProvisionedThroughputExceeded.Code
				e.ErrorMessage = sh.throttleMsg
				out.FailedRecordCount++
			case failed:
				e.ErrorCode, e.ErrorMessage = internalFailure(err)
				out.FailedRecordCount++
			}
			if tallies != nil {
				tallies[tally].add(st, len(records[i].PartitionKey)+len(records[i].Data))
			}
			break
		}
	}
	release()
	for _, sh := range unflushed {
		sh.mu.Lock()
		sh.flushLocked()
		sh.mu.Unlock()
	}
	// SyncAlways: the records count once durable; a shard whose sync failed
	// fails all of its records of this batch.
	for i, err := range awaitAll(touched) {
		if t := touched[i]; err != nil {
			code, msg := internalFailure(err)
			for i := range out.Records {
				if e := &out.Records[i]; e.ShardID == t.sh.id && e.ErrorCode == "" {
					*e = BatchEntry{ErrorCode: code, ErrorMessage: msg}
					out.FailedRecordCount++
				}
			}
		}
	}
	for i := range tallies {
		sh := tallies[i].sh
		sh.mu.Lock()
		sh.meterBatchLocked(now, &tallies[i])
		sh.mu.Unlock()
	}
	s.meterPutBatch(now, records, out, s.waited(now, timed || len(touched) > 0))
	s.enforceBounds()
	s.maybeScale(now)
	return nil
}
