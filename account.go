package shardlog

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardlog/shardlog/internal/hashkey"
	"github.com/shardlog/shardlog/internal/token"
)

// Account is one AWS account in one region: a set of named streams with a
// shared shard quota. It is safe for concurrent use.
//
// Lock order: Account.mu, then Stream.mu, then a shard's lock. No lock is
// held while user code (an iterator's yield) runs.
type Account struct {
	cfg   config
	codec *token.Codec
	done  chan struct{} // closed by Close
	wg    sync.WaitGroup

	closed    atomic.Bool
	closeOnce sync.Once
	spawnMu   sync.Mutex // orders spawn's wg.Add before Close's wg.Wait
	janitor   *repeater  // WithJanitor's; nil without

	store  *store    // the directory of a durable account; nil in memory
	syncer *repeater // SyncEvery's; nil under the other policies

	// openShards counts the open shards of every stream not deleted; it
	// changes only through reserveShards and releaseShards, so that
	// concurrent creates and reshards never exceed the shard limit together.
	openShards atomic.Int64
	live       usage     // what the shards of every stream hold
	dropped    dropCount // what size bounds dropped

	access     *access // principals and keys (WithAccessControl); made on first use
	accessOnce sync.Once

	faults  faults         // injected by tests (InjectFault)
	rates   rateBuckets    // control-plane call rates (Limits.ControlPlaneRates)
	leases  LeaseStore     // the consumer groups' leases: memLeases, or journal
	journal *durableLeases // a durable account's leases; nil in memory

	mu      sync.RWMutex       // guards streams and lastInc
	streams map[string]*Stream // by name; may hold DELETING streams
	lastInc uint32             // the last stream incarnation given out
}

// NewAccount returns an empty account configured by opts.
func NewAccount(opts ...Option) (*Account, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	a := &Account{
		cfg:     cfg,
		codec:   token.NewCodec(),
		done:    make(chan struct{}),
		streams: make(map[string]*Stream),
	}
	a.leases = NewMemoryLeaseStore()
	if cfg.dir != "" {
		st, m, err := openStore(&a.cfg)
		if err != nil {
			return nil, err
		}
		a.store = st
		if err := a.restore(m); err != nil {
			a.closeStore()
			return nil, err
		}
		j, err := openLeases(st.fs, st.path("LEASES"), st.policy.kind == syncAlways, st.readOnly)
		if err != nil {
			a.closeStore()
			return nil, err
		}
		a.leases, a.journal = j, j
		if !st.readOnly {
			st.keepReserve()
			a.startSyncer()
		}
	}
	a.startJanitor()
	return a, nil
}

// Close ends the account: waiting readers return ErrClosed, goroutines the
// account started have exited when Close returns, and every later call
// returns ErrClosed. A durable account syncs everything it holds, records
// where each shard starts, and releases its directory; Close returns the
// first error of doing so (the records are still written: nothing
// acknowledged is lost). Close is idempotent: later calls return nil.
func (a *Account) Close() error {
	var err error
	a.closeOnce.Do(func() {
		a.spawnMu.Lock()
		a.closed.Store(true)
		a.spawnMu.Unlock()
		a.janitor.stop()
		a.syncer.stop()
		a.mu.RLock()
		for _, s := range a.streams {
			s.mu.Lock()
			s.endSubscriptionsLocked(ErrClosed)
			s.mu.Unlock()
		}
		a.mu.RUnlock()
		close(a.done)
		a.wg.Wait()
		if a.store != nil {
			err = a.closeStore()
		}
	})
	return err
}

// closeStore syncs and closes every shard's files, writes the manifest with
// each shard's head, and unlocks the directory.
func (a *Account) closeStore() error {
	st := a.store
	var first error
	note := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for _, s := range a.streamList() {
		s.mu.Lock()
		for _, sh := range s.shards {
			s.mu.Unlock()
			note(sh.syncAll())
			sh.mu.Lock()
			if sh.seg.Used() >= spareMin {
				// Indexes the file being written, so that opening need not
				// scan it; a small one is scanned at little cost, and a
				// stream of many idle shards closes fast.
				sh.seg.Roll()
			}
			sh.files.closeLocked()
			sh.mu.Unlock()
			s.mu.Lock()
		}
		if _, ok := st.streams[s.inc]; ok && !st.readOnly {
			note(s.persistLocked())
		}
		s.mu.Unlock()
	}
	st.wg.Wait() // files still being unmapped
	if a.journal != nil {
		note(a.journal.close())
	}
	note(st.lock.Close())
	return first
}

// Region returns the region used in ARNs.
func (a *Account) Region() string { return a.cfg.region }

// AccountID returns the 12-digit account ID used in ARNs.
func (a *Account) AccountID() string { return a.cfg.accountID }

// Clock returns the account's clock.
func (a *Account) Clock() Clock { return a.cfg.clock }

// enter is the first step of every operation.
func (a *Account) enter(ctx context.Context) error {
	if a.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// StreamARN returns the ARN a stream named name has in this account.
func (a *Account) StreamARN(name string) string {
	return "arn:aws:kinesis:" + a.cfg.region + ":" + a.cfg.accountID + ":stream/" + name
}

// CreateStreamInput is the input of CreateStream.
type CreateStreamInput struct {
	StreamName string            // 1 to 128 of [a-zA-Z0-9_.-]; unique in the account
	ShardCount int               // at least 1; for ON_DEMAND, 0 means 4
	Mode       StreamMode        // PROVISIONED (the default) or ON_DEMAND
	Tags       map[string]string // at most 50
}

// CreateStream creates a stream whose ShardCount shards split the hash space
// evenly, as Kinesis does: shard i starts at i*floor(2^128/ShardCount) and
// the last shard ends at 2^128-1. The stream is CREATING for the configured
// create delay (zero by default), then ACTIVE. It returns the new stream,
// as Account.Stream would.
//
// Errors: ErrValidation for a bad name or count, ErrResourceInUse if the
// name exists, ErrLimitExceeded if the account's shard limit would be
// exceeded or five streams are already CREATING.
func (a *Account) CreateStream(ctx context.Context, in CreateStreamInput) (*Stream, error) {
	if err := a.enter(ctx); err != nil {
		return nil, err
	}
	if err := a.authorizeTagging(ctx, "CreateStream", a.StreamARN(in.StreamName), nil, requestTags{tags: in.Tags}); err != nil {
		return nil, err
	}
	if err := a.gate(ctx, "CreateStream", in.StreamName); err != nil {
		return nil, err
	}
	if err := checkName("streamName", in.StreamName); err != nil {
		return nil, err
	}
	switch in.Mode {
	case "":
		in.Mode = Provisioned
	case OnDemand:
		if in.ShardCount == 0 {
			in.ShardCount = onDemandShards
		}
	case Provisioned:
	default:
		return nil, validation("streamModeDetails.streamMode", string(in.Mode), "satisfy enum value set: [PROVISIONED, ON_DEMAND]")
	}
	if in.ShardCount < 1 {
		return nil, validation("shardCount", strconv.Itoa(in.ShardCount), "have value greater than or equal to 1")
	}
	if len(in.Tags) > maxTagsPerStream {
		return nil, newError(ErrInvalidArgument, "A stream cannot have more than %d tags.", maxTagsPerStream)
	}
	if err := checkTags("add", in.StreamName, a.cfg.accountID, in.Tags); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.cfg.clock.Now()
	a.purgeLocked(now)
	if _, ok := a.streams[in.StreamName]; ok {
		return nil, newError(ErrResourceInUse, "Stream %s under account %s already exists.", in.StreamName, a.cfg.accountID)
	}
	creating := 0
	for _, s := range a.streams {
		if s.statusAt(now) == StatusCreating {
			creating++
		}
	}
	if creating >= maxStreamsCreating {
		return nil, newError(ErrLimitExceeded, "Only %d streams may be in the CREATING state at once in account %s.", maxStreamsCreating, a.cfg.accountID)
	}
	if in.Mode == OnDemand {
		if err := a.checkOnDemandLimitLocked(now); err != nil {
			return nil, err
		}
	}
	if err := a.reserveShards(in.ShardCount); err != nil {
		return nil, err
	}
	a.lastInc++
	s := newStream(a, strings.Clone(in.StreamName), a.lastInc, now, hashkey.Uniform(in.ShardCount))
	s.settings.mode = in.Mode
	s.scale.follow(in.Mode, now)
	if len(in.Tags) > 0 {
		s.tags = cloneTags(in.Tags)
	}
	if st := a.store; st != nil {
		err := st.makeStreamDir(s.inc)
		if err == nil {
			s.mu.Lock()
			err = s.persistLocked()
			s.mu.Unlock()
		}
		if err != nil {
			_ = st.fs.RemoveAll(st.streamDir(s.inc))
			a.releaseShards(in.ShardCount)
			return nil, err
		}
	}
	a.streams[in.StreamName] = s
	a.cfg.log.Info("shardlog: created a stream", "stream", s.name, "shards", in.ShardCount, "mode", in.Mode)
	return s, nil
}

// purgeLocked forgets streams whose deletion has finished. a.mu must be held
// for writing.
func (a *Account) purgeLocked(now time.Time) {
	for name, s := range a.streams {
		if s.statusAt(now) == statusGone {
			if st := a.store; st != nil {
				if err := st.persistFreeing(s.inc, nil); err != nil {
					continue // it stays, gone, until a later purge can record it
				}
				s.closeFiles()
				if err := st.fs.RemoveAll(st.streamDir(s.inc)); err != nil {
					st.log.Warn("shardlog: could not remove a deleted stream's files", "stream", name, "err", err)
				}
				st.keepReserve()
			}
			delete(a.streams, name)
			a.dropLeaseTables(s)
			if a.cfg.accountBound != (SizeBound{}) {
				b, r := s.held()
				a.live.add(-b, -r)
			}
		}
	}
}

// StreamRef names a stream by StreamName, StreamARN, or both (then they
// must agree), as every Kinesis stream operation does.
type StreamRef struct {
	StreamName string
	StreamARN  string
}

// Stream returns the stream that ref names. It returns ErrResourceNotFound
// if there is no such stream (or its deletion has finished), ErrValidation
// for a malformed name or ARN, and ErrInvalidArgument if neither or two
// disagreeing names are given.
func (a *Account) Stream(ref StreamRef) (*Stream, error) {
	if a.closed.Load() {
		return nil, ErrClosed
	}
	name, err := a.resolveName(ref)
	if err != nil {
		return nil, err
	}
	a.mu.RLock()
	s := a.streams[name]
	a.mu.RUnlock()
	if s == nil || s.statusAt(a.cfg.clock.Now()) == statusGone {
		return nil, a.notFound(name)
	}
	return s, nil
}

func (a *Account) notFound(name string) *Error {
	return newError(ErrResourceNotFound, "Stream %s under account %s not found.", name, a.cfg.accountID)
}

func (a *Account) resolveName(ref StreamRef) (string, error) {
	if ref.StreamName == "" && ref.StreamARN == "" {
		return "", newError(ErrInvalidArgument, "Either StreamName or StreamARN must be provided.")
	}
	name := ref.StreamName
	if name != "" {
		if err := checkName("streamName", name); err != nil {
			return "", err
		}
	}
	if ref.StreamARN != "" {
		n, err := a.nameFromARN(ref.StreamARN)
		if err != nil {
			return "", err
		}
		if name != "" && n != name {
			return "", newError(ErrInvalidArgument, "StreamARN %s and StreamName %s do not refer to the same stream.", ref.StreamARN, name)
		}
		name = n
	}
	return name, nil
}

// nameFromARN checks that arn is a stream ARN of this account and region
// and returns the stream name in it.
func (a *Account) nameFromARN(arn string) (string, error) {
	// arn:<partition>:kinesis:<region>:<account>:stream/<name>
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "kinesis" ||
		len(parts[4]) != 12 || !allDigits(parts[4]) || !strings.HasPrefix(parts[5], "stream/") || len(arn) > 2048 {
		return "", validation("streamARN", arn, "satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+")
	}
	name := strings.TrimPrefix(parts[5], "stream/")
	if err := checkName("streamARN", name); err != nil {
		return "", err
	}
	if parts[3] != a.cfg.region || parts[4] != a.cfg.accountID {
		return "", newError(ErrResourceNotFound, "Stream %s under account %s not found.", name, parts[4])
	}
	return name, nil
}

// DeleteStreamInput is the input of DeleteStream.
type DeleteStreamInput struct {
	StreamRef
	// EnforceConsumerDeletion deletes the stream even if it has registered
	// consumers, deregistering them.
	EnforceConsumerDeletion bool
}

// DeleteStream deletes a stream. It is DELETING for the configured delete
// delay (zero by default), then gone; its name can be reused at once after
// that. Readers of the stream end with ErrResourceNotFound and its
// iterators stop working.
//
// Errors: ErrResourceNotFound; ErrResourceInUse if the stream has consumers
// and EnforceConsumerDeletion is false.
func (a *Account) DeleteStream(ctx context.Context, in DeleteStreamInput) error {
	if err := a.enter(ctx); err != nil {
		return err
	}
	if err := a.authorizeRef(ctx, "DeleteStream", in.StreamRef); err != nil {
		return err
	}
	s, err := a.Stream(in.StreamRef)
	if err != nil {
		return err
	}
	if err := a.gate(ctx, "DeleteStream", s.name); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.cfg.clock.Now()
	if err := s.markDeleted(now, in.EnforceConsumerDeletion); err != nil {
		return err
	}
	a.purgeLocked(now)
	a.cfg.log.Info("shardlog: deleted a stream", "stream", s.name)
	return nil
}

// ListStreamsInput is the input of ListStreams.
type ListStreamsInput struct {
	Limit                    int    // 1 to 10000; 0 means 100; at most 100 are returned
	ExclusiveStartStreamName string // list names after this one
	NextToken                string // from a previous page; excludes ExclusiveStartStreamName
}

// StreamSummary describes a stream in a ListStreams page.
type StreamSummary struct {
	StreamName              string
	StreamARN               string
	StreamStatus            StreamStatus
	StreamMode              StreamMode
	StreamCreationTimestamp time.Time
}

// ListStreamsOutput is one page of ListStreams.
type ListStreamsOutput struct {
	StreamNames     []string
	StreamSummaries []StreamSummary
	HasMoreStreams  bool
	NextToken       string // set when HasMoreStreams
}

// ListStreams lists the account's streams in name order, a page at a time.
func (a *Account) ListStreams(ctx context.Context, in ListStreamsInput) (ListStreamsOutput, error) {
	if err := a.enter(ctx); err != nil {
		return ListStreamsOutput{}, err
	}
	if err := a.authorizeResource(ctx, "ListStreams", "*"); err != nil {
		return ListStreamsOutput{}, err
	}
	if err := a.gate(ctx, "ListStreams", ""); err != nil {
		return ListStreamsOutput{}, err
	}
	now := a.cfg.clock.Now()
	limit, err := pageLimit("limit", in.Limit, 100, 100)
	if err != nil {
		return ListStreamsOutput{}, err
	}
	after := in.ExclusiveStartStreamName
	if in.NextToken != "" {
		if after != "" {
			return ListStreamsOutput{}, newError(ErrInvalidArgument, "NextToken and ExclusiveStartStreamName cannot be provided together.")
		}
		r, err := a.openPage(token.ListStreams, in.NextToken, now)
		if err != nil {
			return ListStreamsOutput{}, err
		}
		after = r.Str()
		if r.Err() != nil {
			return ListStreamsOutput{}, invalidToken()
		}
	}
	a.mu.RLock()
	var names []string
	for name, s := range a.streams {
		if name > after && s.statusAt(now) != statusGone {
			names = append(names, name)
		}
	}
	a.mu.RUnlock()
	slices.Sort(names)
	out := ListStreamsOutput{StreamNames: []string{}, StreamSummaries: []StreamSummary{}}
	if len(names) > limit {
		names, out.HasMoreStreams = names[:limit], true
	}
	for _, name := range names {
		s, err := a.Stream(StreamRef{StreamName: name})
		if err != nil {
			continue // deleted meanwhile
		}
		mode := s.currentSettings().mode
		out.StreamNames = append(out.StreamNames, name)
		out.StreamSummaries = append(out.StreamSummaries, StreamSummary{
			StreamName:              name,
			StreamARN:               s.arn,
			StreamStatus:            s.statusAt(now),
			StreamMode:              mode,
			StreamCreationTimestamp: s.created,
		})
	}
	if out.HasMoreStreams && len(out.StreamNames) > 0 {
		var w token.Writer
		w.Str(out.StreamNames[len(out.StreamNames)-1])
		out.NextToken = a.pageToken(token.ListStreams, w.B, now)
	}
	return out, nil
}

// pageLimit applies a paginated call's limit: 0 means def, values above
// most are clamped to it, and values outside [1, 10000] are invalid.
func pageLimit(member string, n, def, most int) (int, error) {
	switch {
	case n == 0:
		return def, nil
	case n < 1:
		return 0, validation(member, strconv.Itoa(n), "have value greater than or equal to 1")
	case n > 10000:
		return 0, validation(member, strconv.Itoa(n), "have value less than or equal to 10000")
	}
	return min(n, most), nil
}

// nextTokenTTL is how long a pagination token stays valid.
const nextTokenTTL = 300 * time.Second

// pageToken makes a pagination token: payload, then the issue time.
func (a *Account) pageToken(kind token.Kind, payload []byte, now time.Time) string {
	w := token.Writer{B: payload}
	w.U64(uint64(now.UnixMilli()))
	return a.codec.Encode(kind, w.B)
}

// openPage checks a pagination token and its age and returns a reader over
// its payload.
func (a *Account) openPage(kind token.Kind, tok string, now time.Time) (*token.Reader, error) {
	raw, err := a.codec.Decode(kind, tok)
	if err != nil || len(raw) < 8 {
		return nil, invalidToken()
	}
	tail := token.Reader{B: raw[len(raw)-8:]}
	issued := time.UnixMilli(int64(tail.U64()))
	if now.Sub(issued) > nextTokenTTL {
		return nil, newError(ErrExpiredNextToken, "The timestamp in NextToken has expired. NextToken is only valid for %d seconds.", int(nextTokenTTL/time.Second))
	}
	return &token.Reader{B: raw[:len(raw)-8]}, nil
}

func invalidToken() *Error { return newError(ErrInvalidArgument, "Invalid NextToken.") }

// streamList returns the account's streams, DELETING ones too.
func (a *Account) streamList() []*Stream {
	a.mu.RLock()
	defer a.mu.RUnlock()
	streams := make([]*Stream, 0, len(a.streams))
	for _, s := range a.streams {
		streams = append(streams, s)
	}
	return streams
}
