package shardlog

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/shardlog/shardlog/iam"
)

// maxResourcePolicy bounds a resource-based policy, as Kinesis does (20
// KiB): every call on the resource evaluates it.
const maxResourcePolicy = 20 << 10

// PutResourcePolicy attaches a resource-based policy document (JSON, as IAM
// takes it) to a stream or a registered consumer, named by its ARN,
// replacing the one it had. Access control weighs it beside the caller's
// identity-based policies: within the account an allow in either suffices;
// a caller of another account needs both. Only callers of the resource's
// account may change it. A durable account keeps it.
//
// Errors: ErrResourceNotFound for a stream or consumer that does not
// exist, ErrResourceInUse for a stream that is not ACTIVE or UPDATING,
// ErrInvalidArgument for a malformed policy (the message says why),
// ErrAccessDenied.
func (a *Account) PutResourcePolicy(ctx context.Context, resourceARN, policy string) error {
	// Authorized before the document is read: a denied caller learns
	// nothing, not even what the parser thinks of its policy.
	if err := a.mayChangePolicy(ctx, "PutResourcePolicy", resourceARN); err != nil {
		return err
	}
	if len(policy) > maxResourcePolicy {
		return newError(ErrInvalidArgument, "The policy is %d bytes; a resource-based policy may have at most %d.", len(policy), maxResourcePolicy)
	}
	p, err := iam.Parse(policy, true)
	if err != nil {
		return newError(ErrInvalidArgument, "Invalid policy: %v.", err)
	}
	p.Document, p.Name = strings.Clone(policy), "resource policy of "+resourceARN
	return a.setResourcePolicy(ctx, "PutResourcePolicy", resourceARN, p)
}

// GetResourcePolicy returns the resource-based policy of a stream or a
// registered consumer, "{}" if it has none.
//
// Errors: ErrResourceNotFound, ErrAccessDenied.
func (a *Account) GetResourcePolicy(ctx context.Context, resourceARN string) (string, error) {
	if err := a.enter(ctx); err != nil {
		return "", err
	}
	if err := a.authorizeResource(ctx, "GetResourcePolicy", resourceARN); err != nil {
		return "", err
	}
	s, c, err := a.resource(resourceARN, a.cfg.clock.Now())
	if err != nil {
		return "", err
	}
	if err := a.gate(ctx, "GetResourcePolicy", s.name); err != nil {
		return "", err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.policy.Load()
	if c != nil {
		p = c.policy
	}
	if p == nil {
		return "{}", nil
	}
	return p.Document, nil
}

// DeleteResourcePolicy removes the resource-based policy of a stream or a
// registered consumer; removing none is no error.
//
// Errors: as PutResourcePolicy.
func (a *Account) DeleteResourcePolicy(ctx context.Context, resourceARN string) error {
	if err := a.mayChangePolicy(ctx, "DeleteResourcePolicy", resourceARN); err != nil {
		return err
	}
	return a.setResourcePolicy(ctx, "DeleteResourcePolicy", resourceARN, nil)
}

// mayChangePolicy decides a change of a resource's policy, which only
// callers of the resource's own account may make.
func (a *Account) mayChangePolicy(ctx context.Context, op, resourceARN string) error {
	if err := a.enter(ctx); err != nil {
		return err
	}
	if err := a.authorizeResource(ctx, op, resourceARN); err != nil {
		return err
	}
	if c, ok := CallerFrom(ctx); ok && a.cfg.access && iamAccount(c.PrincipalARN) != a.cfg.accountID {
		req := iam.Request{Principal: c.PrincipalARN, Action: "kinesis:" + op, Resource: resourceARN}
		d := iam.Decision{Reason: iam.ImplicitDeny}
		a.logDenial(req, d)
		return newError(ErrAccessDenied, "%s", d.Message(req))
	}
	return nil
}

// setResourcePolicy puts p (nil: none) on the resource, for a caller
// mayChangePolicy let through.
func (a *Account) setResourcePolicy(ctx context.Context, op, resourceARN string, p *iam.Policy) error {
	now := a.cfg.clock.Now()
	s, c, err := a.resource(resourceARN, now)
	if err != nil {
		return err
	}
	if err := a.gate(ctx, op, s.name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.statusAt(now); st != StatusActive && st != StatusUpdating {
		return newError(ErrResourceInUse, "Stream %s under account %s is %s.", s.name, a.cfg.accountID, st)
	}
	if c != nil {
		old := c.policy
		c.policy = p
		if err := s.persistLocked(); err != nil {
			c.policy = old
			return err
		}
	} else {
		old := s.policy.Swap(p)
		if err := s.persistLocked(); err != nil {
			s.policy.Store(old)
			return err
		}
	}
	a.cfg.log.Info("shardlog: changed a resource policy", "op", op, "resource", resourceARN)
	return nil
}

// resource finds the stream, or the consumer and its stream, that an ARN
// names.
func (a *Account) resource(arn string, now time.Time) (*Stream, *consumer, error) {
	if _, _, isConsumer := splitConsumerARN(arn); !isConsumer {
		s, err := a.Stream(StreamRef{StreamARN: arn})
		return s, nil, err
	}
	s, c, _, err := a.consumer(ConsumerRef{ConsumerARN: arn}, now)
	return s, c, err
}

// resourcePolicy returns the resource-based policy of the stream or
// consumer an ARN names; nil if it has none or does not exist.
func (a *Account) resourcePolicy(arn string) *iam.Policy {
	streamARN, name, isConsumer := splitConsumerARN(arn)
	if !isConsumer {
		streamARN = arn
	}
	sname, err := a.nameFromARN(streamARN)
	if err != nil {
		return nil
	}
	a.mu.RLock()
	s := a.streams[sname]
	a.mu.RUnlock()
	if s == nil {
		return nil
	}
	if !isConsumer {
		return s.policy.Load()
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c := s.consumers[name]; c != nil && c.arn == arn {
		return c.policy
	}
	return nil
}

// authorizeResource decides a call on the stream or consumer an ARN
// names, with its resource-based policy.
func (a *Account) authorizeResource(ctx context.Context, op, arn string) error {
	if !a.cfg.access {
		return nil
	}
	return a.authorize(ctx, op, arn, a.resourcePolicy(arn))
}

// authorize decides a call on the stream at its entry.
func (s *Stream) authorize(ctx context.Context, op string) error {
	if !s.acct.cfg.access {
		return nil
	}
	return s.acct.authorize(ctx, op, s.arn, s.policy.Load())
}

// authorizeRef decides a call on the stream a reference names, before the
// stream is looked up.
func (a *Account) authorizeRef(ctx context.Context, op string, ref StreamRef) error {
	if !a.cfg.access {
		return nil
	}
	name, err := a.resolveName(ref)
	if err != nil {
		return err
	}
	return a.authorizeResource(ctx, op, a.StreamARN(name))
}

// authorizedConsumer finds the consumer ref names and decides the call on
// it. A caller the policies deny learns nothing of the consumer: a missing
// stream or consumer is decided as a consumer of that name would be, so
// that denied answers AccessDenied whether or not it exists.
func (a *Account) authorizedConsumer(ctx context.Context, op string, ref ConsumerRef, now time.Time) (*Stream, *consumer, ConsumerStatus, error) {
	if !a.cfg.access {
		return a.consumer(ref, now)
	}
	if ref.ConsumerARN != "" {
		if err := a.authorizeResource(ctx, op, ref.ConsumerARN); err != nil {
			return nil, nil, "", err
		}
		return a.consumer(ref, now)
	}
	s, c, st, err := a.consumer(ref, now)
	if err != nil && !errors.Is(err, ErrResourceNotFound) {
		return nil, nil, "", err // the input's shape: nothing of the account
	}
	arn, p := ref.StreamARN+"/consumer/"+ref.ConsumerName+":*", (*iam.Policy)(nil)
	if err == nil {
		s.mu.RLock()
		arn, p = c.arn, c.policy
		s.mu.RUnlock()
	}
	if denied := a.authorize(ctx, op, arn, p); denied != nil {
		return nil, nil, "", denied
	}
	return s, c, st, err
}
