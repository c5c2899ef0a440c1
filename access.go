package shardlog

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/shardlog/shardlog/iam"
)

// Access control (WithAccessControl): the account holds principals with
// their identity-based policies and access keys; streams and consumers
// hold resource-based policies; and the one core entry point of every
// operation decides a caller's call with package iam before anything else,
// so that a denied call changes nothing and learns nothing (not even
// whether the stream exists).

// Caller is who makes a call, as access control sees it.
type Caller struct {
	// PrincipalARN is the principal the call acts as: a user
	// (arn:aws:iam::123456789012:user/alice), a role session
	// (arn:aws:sts::123456789012:assumed-role/Writer/job) or an account's
	// root (arn:aws:iam::123456789012:root).
	PrincipalARN string
	// SourceIP, if valid, is the call's aws:SourceIp.
	SourceIP netip.Addr
	// SecureTransport is aws:SecureTransport: the call came over TLS.
	SecureTransport bool
}

type callerKey struct{}

// callerValue is a Caller in a context, with the one call that Authorize
// has decided for it already.
type callerValue struct {
	Caller
	allowed string // action and resource, as allowedKey makes them
}

func allowedKey(action, resource string) string { return action + " " + resource }

// WithCaller returns a context whose calls act as c: with access control
// on, they are allowed only as far as c's policies allow.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, &callerValue{Caller: c})
}

// CallerFrom returns the Caller of ctx, if it has one.
func CallerFrom(ctx context.Context) (Caller, bool) {
	v, ok := ctx.Value(callerKey{}).(*callerValue)
	if !ok {
		return Caller{}, false
	}
	return v.Caller, true
}

// access is an account's principals and keys.
type access struct {
	mu         sync.RWMutex
	principals map[string][]*iam.Policy // identity-based policies by principal ARN
	keys       map[string]accessKey     // by access key ID

	// Denials are logged, but a caller denied in a loop must not flood
	// the log: at most deniedLogRate lines a second, the rest counted.
	denials  *rate.Limiter
	unlogged atomic.Int64
}

// deniedLogRate is how many denials a second are logged.
const deniedLogRate = 10

type accessKey struct{ secret, principal string }

func newAccess() *access {
	return &access{principals: map[string][]*iam.Policy{}, keys: map[string]accessKey{},
		denials: rate.NewLimiter(deniedLogRate, deniedLogRate)}
}

// PutPrincipal adds or replaces a principal and its identity-based policy
// documents (JSON, as IAM takes them). It is what creating an IAM user or
// role and attaching policies to it is on AWS; a role's sessions
// (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION) are principals of their
// own, with policies of their own. Principals are configuration: they are
// not kept in a durable account's directory.
//
// Errors: ErrInvalidArgument for an ARN that names no IAM or STS principal
// or a malformed policy (the message says why).
func (a *Account) PutPrincipal(arn string, policies ...string) error {
	if !strings.HasPrefix(arn, "arn:aws:iam::") && !strings.HasPrefix(arn, "arn:aws:sts::") || iamAccount(arn) == "" {
		return newError(ErrInvalidArgument, "%q is not the ARN of an IAM user, role or role session.", arn)
	}
	parsed := make([]*iam.Policy, 0, len(policies))
	for i, doc := range policies {
		p, err := iam.Parse(doc, false)
		if err != nil {
			return newError(ErrInvalidArgument, "Policy %d of %s is malformed: %v.", i+1, arn, err)
		}
		p.Name = arn + "#" + strconv.Itoa(i+1)
		parsed = append(parsed, p)
	}
	ac := a.accessControl()
	ac.mu.Lock()
	ac.principals[strings.Clone(arn)] = parsed
	ac.mu.Unlock()
	return nil
}

// PutAccessKey adds or replaces an access key of a principal that
// PutPrincipal added: requests signed with it act as that principal.
//
// Errors: ErrInvalidArgument for an empty ID or secret, or an unknown
// principal.
func (a *Account) PutAccessKey(id, secret, principalARN string) error {
	if id == "" || secret == "" {
		return newError(ErrInvalidArgument, "An access key needs an ID and a secret.")
	}
	ac := a.accessControl()
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if _, ok := ac.principals[principalARN]; !ok {
		return newError(ErrInvalidArgument, "No principal %s: add it with PutPrincipal first.", principalARN)
	}
	ac.keys[strings.Clone(id)] = accessKey{secret: strings.Clone(secret), principal: strings.Clone(principalARN)}
	return nil
}

// AccessKey returns the secret and principal of an access key, for a
// server that verifies signatures (kinesisapi).
func (a *Account) AccessKey(id string) (secret, principalARN string, ok bool) {
	ac := a.accessControl()
	ac.mu.RLock()
	k, ok := ac.keys[id]
	ac.mu.RUnlock()
	return k.secret, k.principal, ok
}

// AccessControl reports whether the account checks its callers
// (WithAccessControl).
func (a *Account) AccessControl() bool { return a.cfg.access }

// accessControl returns the account's principals and keys, made on first
// use so that an account without access control pays nothing.
func (a *Account) accessControl() *access {
	a.accessOnce.Do(func() { a.access = newAccess() })
	return a.access
}

// Authorize decides a call of ctx's Caller to action (e.g.
// "kinesis:PutRecord") on resource (an ARN, or "*"), as the operation
// itself would, and returns a context that carries the decision: the
// operation, called with it, does not decide again. A server calls it
// before it looks the resource up, so that a denied caller learns nothing
// of it. Without access control or a Caller, every call is allowed.
//
// Errors: ErrAccessDenied, with AWS's explanation.
func (a *Account) Authorize(ctx context.Context, action, resource string) (context.Context, error) {
	v, ok := ctx.Value(callerKey{}).(*callerValue)
	if !a.cfg.access || !ok {
		return ctx, nil
	}
	if err := a.decide(v, action, resource, a.resourcePolicy(resource), nil); err != nil {
		return ctx, err
	}
	checked := *v
	checked.allowed = allowedKey(action, resource)
	return context.WithValue(ctx, callerKey{}, &checked), nil
}

// authorize is Authorize at an operation's entry, with the resource's
// policy at hand (nil for none). op is the Kinesis operation.
func (a *Account) authorize(ctx context.Context, op, resource string, policy *iam.Policy) error {
	v, ok := ctx.Value(callerKey{}).(*callerValue)
	if !ok {
		return nil
	}
	action := "kinesis:" + op
	if v.allowed != "" && v.allowed == allowedKey(action, resource) {
		return nil
	}
	return a.decide(v, action, resource, policy, nil)
}

// authorizeCloudWatch decides a read of the metrics, which CloudWatch
// governs: the action cloudwatch:<op> on every resource.
func (a *Account) authorizeCloudWatch(ctx context.Context, op string) error {
	v, ok := ctx.Value(callerKey{}).(*callerValue)
	if !a.cfg.access || !ok {
		return nil
	}
	return a.decide(v, "cloudwatch:"+op, "", nil, nil)
}

// requestTags are the tags a call brings, for the aws:RequestTag/<key> and
// aws:TagKeys condition keys: those it sets, or the keys it removes.
type requestTags struct {
	tags map[string]string
	keys []string
}

// authorizeTagging is authorize for a call that brings tags.
func (a *Account) authorizeTagging(ctx context.Context, op, resource string, policy *iam.Policy, rt requestTags) error {
	v, ok := ctx.Value(callerKey{}).(*callerValue)
	if !a.cfg.access || !ok {
		return nil
	}
	return a.decide(v, "kinesis:"+op, resource, policy, &rt)
}

// decide evaluates a call and turns a denial into AccessDeniedException.
func (a *Account) decide(v *callerValue, action, resource string, policy *iam.Policy, rt *requestTags) error {
	req := a.request(v.Caller, action, resource)
	if rt != nil {
		own := req.Values
		req.Values = func(key string) []string {
			if k, ok := cutPrefixFold(key, "aws:RequestTag/"); ok {
				if v, ok := rt.tags[k]; ok {
					return []string{v}
				}
				return nil
			}
			if strings.EqualFold(key, "aws:TagKeys") {
				keys := slices.Clone(rt.keys)
				for k := range rt.tags {
					keys = append(keys, k)
				}
				return keys
			}
			return own(key)
		}
	}
	var resourcePolicies []*iam.Policy
	if policy != nil {
		resourcePolicies = []*iam.Policy{policy}
	}
	d := iam.Evaluate(a.identityPolicies(v.PrincipalARN), resourcePolicies, req)
	if !d.Allowed() {
		a.logDenial(req, d)
		return newError(ErrAccessDenied, "%s", d.Message(req))
	}
	return nil
}

// logDenial logs who was denied what, at info: a denial is the policies
// working, but whoever runs the account wants to see it.
func (a *Account) logDenial(req iam.Request, d iam.Decision) {
	ac := a.accessControl()
	if !ac.denials.AllowN(a.cfg.clock.Now(), 1) {
		ac.unlogged.Add(1)
		return
	}
	args := []any{"principal", req.Principal, "action", req.Action, "resource", req.Resource, "reason", d.Reason.String()}
	if n := ac.unlogged.Swap(0); n > 0 {
		args = append(args, "unlogged", n)
	}
	a.cfg.log.Info("shardlog: access denied", args...)
}

// identityPolicies returns a principal's policies; none for one the
// account does not know.
func (a *Account) identityPolicies(arn string) []*iam.Policy {
	ac := a.accessControl()
	ac.mu.RLock()
	defer ac.mu.RUnlock()
	return ac.principals[arn]
}

// request is the iam.Request of a call, with the condition keys shardlog
// knows, made when a condition asks for them: aws:SourceIp,
// aws:SecureTransport, aws:CurrentTime, aws:EpochTime,
// aws:RequestedRegion, and aws:ResourceTag/<key> (the tags of the stream
// the resource is or belongs to).
func (a *Account) request(c Caller, action, resource string) iam.Request {
	return iam.Request{Principal: c.PrincipalARN, Action: action, Resource: resource, Values: func(key string) []string {
		if tag, ok := cutPrefixFold(key, "aws:ResourceTag/"); ok {
			if v, ok := a.resourceTag(resource, tag); ok {
				return []string{v}
			}
			return nil
		}
		switch strings.ToLower(key) {
		case "aws:sourceip":
			if c.SourceIP.IsValid() {
				return []string{c.SourceIP.String()}
			}
		case "aws:securetransport":
			return []string{strconv.FormatBool(c.SecureTransport)}
		case "aws:currenttime":
			return []string{a.cfg.clock.Now().UTC().Format(time.RFC3339)}
		case "aws:epochtime":
			return []string{strconv.FormatInt(a.cfg.clock.Now().Unix(), 10)}
		case "aws:requestedregion":
			return []string{a.cfg.region}
		}
		return nil
	}}
}

// SimulatePolicy decides a request against the account's policies — the
// principal's identity-based ones and the resource's resource-based one —
// without making the call: the decision names the policy and statement
// that decided. Condition keys in req.Context are taken as given; the
// account adds aws:CurrentTime, aws:EpochTime and aws:RequestedRegion
// where req lacks them. It works with access control off too, so that
// policies can be unit-tested before they are enforced.
func (a *Account) SimulatePolicy(req iam.Request) iam.Decision {
	full := a.request(Caller{PrincipalARN: req.Principal}, req.Action, req.Resource)
	own := full.Values
	full.Context = req.Context
	full.Values = func(key string) []string {
		if strings.EqualFold(key, "aws:SecureTransport") || strings.EqualFold(key, "aws:SourceIp") {
			return nil // only as req gives them
		}
		return own(key)
	}
	var resourcePolicies []*iam.Policy
	if p := a.resourcePolicy(req.Resource); p != nil {
		resourcePolicies = []*iam.Policy{p}
	}
	return iam.Evaluate(a.identityPolicies(req.Principal), resourcePolicies, full)
}

// iamAccount returns the account ID of an IAM or STS ARN.
func iamAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || len(parts[4]) != 12 || !allDigits(parts[4]) || parts[5] == "" {
		return ""
	}
	return parts[4]
}

// cutPrefixFold is strings.CutPrefix without regard to case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// resourceTag returns the value of tag key on the stream a stream or
// consumer ARN names.
func (a *Account) resourceTag(arn, key string) (string, bool) {
	if streamARN, _, isConsumer := splitConsumerARN(arn); isConsumer {
		arn = streamARN
	}
	name, err := a.nameFromARN(arn)
	if err != nil {
		return "", false
	}
	a.mu.RLock()
	s := a.streams[name]
	a.mu.RUnlock()
	if s == nil {
		return "", false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.tags[key]
	return v, ok
}
