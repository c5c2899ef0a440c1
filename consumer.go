package shardlog

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shardlog/shardlog/iam"
	"github.com/shardlog/shardlog/internal/token"
)

// ConsumerStatus is an enhanced fan-out consumer's state.
type ConsumerStatus string

// Consumer states. Only an ACTIVE consumer can subscribe.
const (
	ConsumerCreating ConsumerStatus = "CREATING"
	ConsumerActive   ConsumerStatus = "ACTIVE"
	ConsumerDeleting ConsumerStatus = "DELETING"
	consumerGone     ConsumerStatus = ""
)

// Consumer quotas, as Kinesis's.
const (
	maxConsumersPerStream = 20
	maxConsumersCreating  = 5
)

// Consumer describes a registered enhanced fan-out consumer.
type Consumer struct {
	ConsumerName              string
	ConsumerARN               string
	ConsumerStatus            ConsumerStatus
	ConsumerCreationTimestamp time.Time // second precision, as in the ARN
	StreamARN                 string
}

// consumer is a registered consumer. name, arn and created are fixed; the
// other fields are guarded by the stream's lock.
type consumer struct {
	name    string
	arn     string
	created time.Time
	deleted time.Time // zero unless deregistered
	subs    map[uint32]*Subscription
	last    map[uint32]time.Time // when each shard was last subscribed to
	policy  *iam.Policy          // the resource-based policy; nil for none
}

func (c *consumer) statusAt(now time.Time, d Delays) ConsumerStatus {
	switch {
	case !c.deleted.IsZero() && !now.Before(c.deleted.Add(d.DeregisterConsumer)):
		return consumerGone
	case !c.deleted.IsZero():
		return ConsumerDeleting
	case now.Before(c.created.Add(d.RegisterConsumer)):
		return ConsumerCreating
	}
	return ConsumerActive
}

func (s *Stream) describeConsumer(c *consumer, now time.Time) Consumer {
	return Consumer{
		ConsumerName:              c.name,
		ConsumerARN:               c.arn,
		ConsumerStatus:            c.statusAt(now, s.acct.cfg.delays),
		ConsumerCreationTimestamp: c.created,
		StreamARN:                 s.arn,
	}
}

// RegisterStreamConsumer registers an enhanced fan-out consumer of the
// stream. It is CREATING for the configured delay (zero by default), then
// ACTIVE. Its ARN ends with its creation time in epoch seconds, so a
// consumer registered again under the same name gets a new ARN.
//
// Errors: ErrValidation for a bad name, ErrResourceInUse if the name is
// taken, ErrLimitExceeded past 20 consumers or 5 CREATING at once.
func (s *Stream) RegisterStreamConsumer(ctx context.Context, name string) (Consumer, error) {
	now, err := s.begin(ctx, "RegisterStreamConsumer")
	if err != nil {
		return Consumer{}, err
	}
	if err := checkName("consumerName", name); err != nil {
		return Consumer{}, err
	}
	if err := s.usable(now); err != nil {
		return Consumer{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.purgeConsumersLocked(now)
	if _, ok := s.consumers[name]; ok {
		return Consumer{}, newError(ErrResourceInUse, "Consumer %s under stream %s already exists for account %s.", name, s.name, s.acct.cfg.accountID)
	}
	creating := 0
	for _, c := range s.consumers {
		if c.statusAt(now, s.acct.cfg.delays) == ConsumerCreating {
			creating++
		}
	}
	switch {
	case len(s.consumers) >= maxConsumersPerStream:
		return Consumer{}, newError(ErrLimitExceeded, "Consumer limit of %d for stream %s under account %s exceeded.", maxConsumersPerStream, s.name, s.acct.cfg.accountID)
	case creating >= maxConsumersCreating:
		return Consumer{}, newError(ErrLimitExceeded, "Only %d consumers of stream %s under account %s can be in the CREATING state at once.", maxConsumersCreating, s.name, s.acct.cfg.accountID)
	}
	created := now.Truncate(time.Second).UTC()
	name = strings.Clone(name) // kept: must not pin the caller's memory
	c := &consumer{
		name:    name,
		arn:     s.arn + "/consumer/" + name + ":" + strconv.FormatInt(created.Unix(), 10),
		created: created,
		subs:    map[uint32]*Subscription{},
		last:    map[uint32]time.Time{},
	}
	if s.consumers == nil {
		s.consumers = map[string]*consumer{}
	}
	s.consumers[name] = c
	if err := s.persistLocked(); err != nil {
		delete(s.consumers, name)
		return Consumer{}, err
	}
	s.acct.cfg.log.Info("shardlog: registered a consumer", "stream", s.name, "consumer", name)
	return s.describeConsumer(c, now), nil
}

// purgeConsumersLocked forgets consumers whose deregistration finished.
// s.mu is held for writing.
func (s *Stream) purgeConsumersLocked(now time.Time) {
	for name, c := range s.consumers {
		if c.statusAt(now, s.acct.cfg.delays) == consumerGone {
			delete(s.consumers, name)
			s.metrics.forget(func(t *minuteRecord) { delete(t.consumers, name) })
		}
	}
}

// consumerCount counts the consumers not yet gone.
func (s *Stream) consumerCount(now time.Time) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, c := range s.consumers {
		if c.statusAt(now, s.acct.cfg.delays) != consumerGone {
			n++
		}
	}
	return n
}

// ConsumerRef names a consumer by ConsumerARN, or by StreamARN plus
// ConsumerName, or all three (then they must agree).
type ConsumerRef struct {
	StreamARN    string
	ConsumerName string
	ConsumerARN  string
}

// consumer resolves ref to a stream and a consumer that is not gone, and
// returns the consumer's status at now.
func (a *Account) consumer(ref ConsumerRef, now time.Time) (*Stream, *consumer, ConsumerStatus, error) {
	streamARN, name := ref.StreamARN, ref.ConsumerName
	if ref.ConsumerARN != "" {
		sa, n, ok := splitConsumerARN(ref.ConsumerARN)
		if !ok {
			return nil, nil, "", validation("consumerARN", ref.ConsumerARN,
				"satisfy regular expression pattern: ^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+")
		}
		if (streamARN != "" && streamARN != sa) || (name != "" && name != n) {
			return nil, nil, "", newError(ErrInvalidArgument, "ConsumerARN %s does not match the given StreamARN or ConsumerName.", ref.ConsumerARN)
		}
		streamARN, name = sa, n
	}
	if streamARN == "" || name == "" {
		return nil, nil, "", newError(ErrInvalidArgument, "Either ConsumerARN or both StreamARN and ConsumerName must be provided.")
	}
	if err := checkName("consumerName", name); err != nil {
		return nil, nil, "", err
	}
	s, err := a.Stream(StreamRef{StreamARN: streamARN})
	if err != nil {
		return nil, nil, "", err
	}
	s.mu.RLock()
	c := s.consumers[name]
	st := consumerGone
	if c != nil && (ref.ConsumerARN == "" || c.arn == ref.ConsumerARN) {
		st = c.statusAt(now, a.cfg.delays)
	}
	s.mu.RUnlock()
	if st == consumerGone {
		return nil, nil, "", newError(ErrResourceNotFound, "Consumer %s under stream %s not found for account %s.", name, s.name, a.cfg.accountID)
	}
	return s, c, st, nil
}

// splitConsumerARN splits <stream ARN>/consumer/<name>:<epoch>.
func splitConsumerARN(arn string) (streamARN, name string, ok bool) {
	i := strings.LastIndex(arn, "/consumer/")
	if i < 0 || !strings.HasPrefix(arn, "arn:aws") {
		return "", "", false
	}
	rest := arn[i+len("/consumer/"):]
	j := strings.LastIndexByte(rest, ':')
	if j <= 0 || !allDigits(rest[j+1:]) {
		return "", "", false
	}
	return arn[:i], rest[:j], true
}

// DescribeStreamConsumer describes a consumer.
//
// Errors: ErrResourceNotFound for a missing stream or consumer,
// ErrInvalidArgument for a reference that is incomplete or inconsistent.
func (a *Account) DescribeStreamConsumer(ctx context.Context, ref ConsumerRef) (Consumer, error) {
	if err := a.enter(ctx); err != nil {
		return Consumer{}, err
	}
	now := a.cfg.clock.Now()
	s, c, _, err := a.authorizedConsumer(ctx, "DescribeStreamConsumer", ref, now)
	if err != nil {
		return Consumer{}, err
	}
	if err := a.gate(ctx, "DescribeStreamConsumer", s.name); err != nil {
		return Consumer{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.describeConsumer(c, now), nil
}

// DeregisterStreamConsumer deregisters a consumer: it is DELETING for the
// configured delay (zero by default), then gone, and its subscriptions end
// with ErrResourceNotFound.
func (a *Account) DeregisterStreamConsumer(ctx context.Context, ref ConsumerRef) error {
	if err := a.enter(ctx); err != nil {
		return err
	}
	now := a.cfg.clock.Now()
	s, c, _, err := a.authorizedConsumer(ctx, "DeregisterStreamConsumer", ref, now)
	if err != nil {
		return err
	}
	if err := a.gate(ctx, "DeregisterStreamConsumer", s.name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.deleted.IsZero() {
		return newError(ErrResourceInUse, "Consumer %s under stream %s is already being deleted.", c.name, s.name)
	}
	c.deleted = now
	if err := s.persistLocked(); err != nil {
		c.deleted = time.Time{}
		return err
	}
	c.endSubscriptions(newError(ErrResourceNotFound, "Consumer %s was deregistered.", c.arn))
	s.purgeConsumersLocked(now)
	a.cfg.log.Info("shardlog: deregistered a consumer", "stream", s.name, "consumer", c.name)
	return nil
}

// ListStreamConsumersInput is the input of ListStreamConsumers.
type ListStreamConsumersInput struct {
	MaxResults              int    // 1 to 10000; 0 means 100; at most 100 are returned
	NextToken               string // from a previous page; valid 300 seconds
	StreamCreationTimestamp time.Time
}

// ListStreamConsumersOutput is one page of ListStreamConsumers.
type ListStreamConsumersOutput struct {
	Consumers []Consumer // in name order
	NextToken string
}

// ListStreamConsumers lists the stream's consumers, a page at a time.
func (s *Stream) ListStreamConsumers(ctx context.Context, in ListStreamConsumersInput) (ListStreamConsumersOutput, error) {
	now, err := s.begin(ctx, "ListStreamConsumers")
	if err != nil {
		return ListStreamConsumersOutput{}, err
	}
	limit, err := pageLimit("maxResults", in.MaxResults, 100, 100)
	if err != nil {
		return ListStreamConsumersOutput{}, err
	}
	if !in.StreamCreationTimestamp.IsZero() && unixMilli(in.StreamCreationTimestamp) != s.created.UnixMilli() {
		return ListStreamConsumersOutput{}, s.acct.notFound(s.name)
	}
	after := ""
	if in.NextToken != "" {
		r, err := s.acct.openPage(token.ListConsumers, in.NextToken, now)
		if err != nil {
			return ListStreamConsumersOutput{}, err
		}
		inc, name := r.U32(), r.Str()
		if r.Err() != nil || inc != s.inc {
			return ListStreamConsumersOutput{}, invalidToken()
		}
		after = name
	}
	s.mu.RLock()
	var all []Consumer
	for _, c := range s.consumers {
		if c.name > after && c.statusAt(now, s.acct.cfg.delays) != consumerGone {
			all = append(all, s.describeConsumer(c, now))
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(all, func(a, b Consumer) int { return strings.Compare(a.ConsumerName, b.ConsumerName) })
	out := ListStreamConsumersOutput{Consumers: []Consumer{}}
	if len(all) > limit {
		var w token.Writer
		w.U32(s.inc)
		w.Str(all[limit-1].ConsumerName)
		out.NextToken = s.acct.pageToken(token.ListConsumers, w.B, now)
		all = all[:limit]
	}
	out.Consumers = append(out.Consumers, all...)
	return out, nil
}
