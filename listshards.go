package shardlog

import (
	"context"
	"time"

	"github.com/shardlog/shardlog/internal/token"
)

// ShardFilterType selects which shards ListShards returns.
type ShardFilterType string

// Shard filter types, as in ListShards.
const (
	// FilterAfterShardID: shards after ShardFilter.ShardID.
	FilterAfterShardID ShardFilterType = "AFTER_SHARD_ID"
	// FilterAtTrimHorizon: the shards that were open at the trim horizon: the
	// oldest live shards, whose parents (if any) have expired.
	FilterAtTrimHorizon ShardFilterType = "AT_TRIM_HORIZON"
	// FilterFromTrimHorizon: every shard whose data is within retention. The
	// default.
	FilterFromTrimHorizon ShardFilterType = "FROM_TRIM_HORIZON"
	// FilterAtLatest: the open shards.
	FilterAtLatest ShardFilterType = "AT_LATEST"
	// FilterAtTimestamp: the shards that were open at ShardFilter.Timestamp.
	FilterAtTimestamp ShardFilterType = "AT_TIMESTAMP"
	// FilterFromTimestamp: the shards open at or after ShardFilter.Timestamp.
	FilterFromTimestamp ShardFilterType = "FROM_TIMESTAMP"
)

// ShardFilter narrows ListShards. The zero value is no filter, which is
// FROM_TRIM_HORIZON.
type ShardFilter struct {
	Type      ShardFilterType
	ShardID   string    // required by AFTER_SHARD_ID
	Timestamp time.Time // required by AT_TIMESTAMP and FROM_TIMESTAMP
}

// ListShardsInput is the input of ListShards. Give either the stream
// (StreamRef, with optional ExclusiveStartShardID, StreamCreationTimestamp
// and ShardFilter) or a NextToken from a previous page, not both.
type ListShardsInput struct {
	StreamRef
	NextToken               string
	ExclusiveStartShardID   string
	MaxResults              int // 1 to 10000; 0 means 1000; at most 1000 are returned
	StreamCreationTimestamp time.Time
	ShardFilter             ShardFilter
}

// ListShardsOutput is one page of ListShards.
type ListShardsOutput struct {
	Shards    []Shard // in shard-index order
	NextToken string  // set if more shards follow; valid for 300 seconds
}

// ListShards lists a stream's shards, a page at a time. Closed shards whose
// records have all expired are not listed.
//
// Errors: ErrInvalidArgument for a NextToken combined with stream
// arguments, neither given, a filter missing its ShardID or Timestamp, or a
// token shardlog did not issue; ErrExpiredNextToken for a token older than
// 300 seconds; ErrResourceNotFound for a missing stream.
func (a *Account) ListShards(ctx context.Context, in ListShardsInput) (ListShardsOutput, error) {
	if err := a.enter(ctx); err != nil {
		return ListShardsOutput{}, err
	}
	ref := in.StreamRef
	if in.NextToken != "" {
		if in.StreamName != "" {
			return ListShardsOutput{}, newError(ErrInvalidArgument, "NextToken and StreamName cannot be provided together.")
		}
		p, err := a.openShardPage(in.NextToken)
		if err != nil {
			return ListShardsOutput{}, err
		}
		ref = StreamRef{StreamName: p.stream}
	} else if in.StreamName == "" && in.StreamARN == "" {
		return ListShardsOutput{}, newError(ErrInvalidArgument, "Either NextToken or StreamName should be provided.")
	}
	if a.cfg.access {
		name, err := a.resolveName(ref)
		if err != nil {
			return ListShardsOutput{}, err
		}
		if ctx, err = a.Authorize(ctx, "kinesis:ListShards", a.StreamARN(name)); err != nil {
			return ListShardsOutput{}, err
		}
	}
	s, err := a.Stream(ref)
	if err != nil {
		return ListShardsOutput{}, err
	}
	return s.ListShards(ctx, in)
}

// shardPage is the state a ListShards NextToken carries.
type shardPage struct {
	stream     string
	inc        uint32
	filter     ShardFilterType
	filterTime int64  // ms
	after      uint32 // list indexes above this one
	afterSet   bool
}

func (a *Account) openShardPage(tok string) (shardPage, error) {
	r, err := a.openPage(token.ListShards, tok, a.cfg.clock.Now())
	if err != nil {
		return shardPage{}, err
	}
	p := shardPage{stream: r.Str(), inc: r.U32(), filter: ShardFilterType(r.Str()), filterTime: int64(r.U64()), after: r.U32(), afterSet: true}
	if r.Err() != nil {
		return shardPage{}, invalidToken()
	}
	return p, nil
}

// ListShards is [Account.ListShards] for this stream; the StreamRef in the
// input is ignored, and a NextToken of another stream is rejected.
func (s *Stream) ListShards(ctx context.Context, in ListShardsInput) (ListShardsOutput, error) {
	if _, err := s.begin(ctx, "ListShards"); err != nil {
		return ListShardsOutput{}, err
	}
	return s.listShards(ctx, in)
}

func (s *Stream) listShards(ctx context.Context, in ListShardsInput) (ListShardsOutput, error) {
	now, err := s.enter(ctx)
	if err != nil {
		return ListShardsOutput{}, err
	}
	limit, err := pageLimit("maxResults", in.MaxResults, 1000, 1000)
	if err != nil {
		return ListShardsOutput{}, err
	}
	var p shardPage
	if in.NextToken != "" {
		if in.ExclusiveStartShardID != "" || !in.StreamCreationTimestamp.IsZero() || in.ShardFilter != (ShardFilter{}) {
			return ListShardsOutput{}, newError(ErrInvalidArgument, "NextToken cannot be provided together with ExclusiveStartShardId, StreamCreationTimestamp or ShardFilter.")
		}
		if p, err = s.acct.openShardPage(in.NextToken); err != nil {
			return ListShardsOutput{}, err
		}
		if p.inc != s.inc || p.stream != s.name {
			return ListShardsOutput{}, invalidToken()
		}
	} else {
		if p, err = s.newShardPage(in); err != nil {
			return ListShardsOutput{}, err
		}
	}

	trim := now.Add(-s.retention())
	out := ListShardsOutput{Shards: []Shard{}}
	var last uint32 // index of the last shard in out.Shards
	for _, sh := range s.shardList() {
		if sh == nil || p.afterSet && sh.index <= p.after {
			continue
		}
		if sh.expired(trim) || !p.matches(sh, s, trim) {
			continue
		}
		if len(out.Shards) == limit {
			var w token.Writer
			w.Str(s.name)
			w.U32(s.inc)
			w.Str(string(p.filter))
			w.U64(uint64(p.filterTime))
			w.U32(last)
			out.NextToken = s.acct.pageToken(token.ListShards, w.B, now)
			break
		}
		out.Shards = append(out.Shards, sh.describe())
		last = sh.index
	}
	return out, nil
}

// newShardPage validates a first ListShards call.
func (s *Stream) newShardPage(in ListShardsInput) (shardPage, error) {
	if !in.StreamCreationTimestamp.IsZero() && unixMilli(in.StreamCreationTimestamp) != s.created.UnixMilli() {
		return shardPage{}, s.acct.notFound(s.name)
	}
	p := shardPage{stream: s.name, inc: s.inc, filter: in.ShardFilter.Type}
	if in.ExclusiveStartShardID != "" {
		if err := checkName("exclusiveStartShardId", in.ExclusiveStartShardID); err != nil {
			return p, err
		}
		p.after, p.afterSet = parseShardIndex(in.ExclusiveStartShardID)
	}
	f := in.ShardFilter
	switch f.Type {
	case "":
		p.filter = FilterFromTrimHorizon
	case FilterAtLatest, FilterAtTrimHorizon, FilterFromTrimHorizon:
	case FilterAfterShardID:
		if f.ShardID == "" {
			return p, newError(ErrInvalidArgument, "ShardId must be specified when ShardFilter type is AFTER_SHARD_ID.")
		}
		if err := checkName("shardFilter.shardId", f.ShardID); err != nil {
			return p, err
		}
		if i, ok := parseShardIndex(f.ShardID); ok && (!p.afterSet || i > p.after) {
			p.after, p.afterSet = i, true
		}
	case FilterAtTimestamp, FilterFromTimestamp:
		if f.Timestamp.IsZero() {
			return p, newError(ErrInvalidArgument, "Timestamp must be specified when ShardFilter type is %s.", f.Type)
		}
		p.filterTime = unixMilli(f.Timestamp)
	default:
		return p, validation("shardFilter.type", string(f.Type),
			"satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]")
	}
	return p, nil
}

// matches applies the page's filter to sh; trim is the trim horizon.
func (p *shardPage) matches(sh *shard, s *Stream, trim time.Time) bool {
	isClosed := sh.closed.Load()
	// Open at t, counting a shard that closed at t: reshards within one
	// millisecond would otherwise hide the parents of shards born at t.
	openAt := func(t time.Time) bool {
		return !sh.created.After(t) && (!isClosed || !sh.closedAt.Before(t))
	}
	// Times before the stream existed, or before the trim horizon, mean the
	// oldest shards there still are.
	floor := trim
	if s.created.After(floor) {
		floor = s.created
	}
	switch p.filter {
	case FilterAtLatest:
		return !isClosed
	case FilterAtTrimHorizon:
		return s.isRoot(sh, trim)
	case FilterAtTimestamp:
		return openAt(later(time.UnixMilli(p.filterTime), floor))
	case FilterFromTimestamp:
		return !isClosed || !sh.closedAt.Before(later(time.UnixMilli(p.filterTime), floor))
	}
	return true // FROM_TRIM_HORIZON, AFTER_SHARD_ID
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// isRoot reports whether no parent of sh is still live.
func (s *Stream) isRoot(sh *shard, trim time.Time) bool {
	for _, id := range sh.parents {
		if p := s.shard(id); p != nil && !p.expired(trim) {
			return false
		}
	}
	return true
}
