package iam

import (
	"fmt"
	"strings"
)

// Request is a call to decide: who makes it, which action on which
// resource, and the values of the condition keys it carries.
type Request struct {
	Principal string // the caller's ARN: a user, a role session, an account's root
	Action    string // service:action, e.g. kinesis:PutRecord
	// Resource is an ARN; * for actions on every resource (ListStreams);
	// empty for actions that take no resource (CloudWatch's reads), whose
	// denial names none.
	Resource string
	// Context holds the request's condition keys (matched without regard
	// to case) and their values, e.g. aws:SourceIp. Evaluate adds
	// aws:PrincipalArn and aws:PrincipalAccount from Principal.
	Context map[string][]string
	// Values, if set, gives the values of keys that Context lacks (nil
	// for none), for callers that would rather not build a map for
	// conditions that may never be asked.
	Values func(key string) []string
}

// Reason says why a request was allowed or denied.
type Reason int

// The reasons of a decision, in the order AWS weighs them.
const (
	// ImplicitDeny: no statement allows the request (for a caller of
	// another account: not both an identity-based and a resource-based
	// one).
	ImplicitDeny Reason = iota
	// ExplicitDeny: a statement denies it; nothing can allow it then.
	ExplicitDeny
	// Allowed: a statement allows it and none denies it.
	Allowed
)

func (r Reason) String() string {
	switch r {
	case ExplicitDeny:
		return "explicit deny"
	case Allowed:
		return "allowed"
	}
	return "implicit deny"
}

// Decision is the outcome of Evaluate: the reason, and the policy and
// statement that decided (none for an implicit deny).
type Decision struct {
	Reason        Reason
	Policy        *Policy
	Statement     *Statement
	ResourceBased bool // the deciding policy is the resource's
	// MissingResourcePolicy, for an implicit deny, says that an
	// identity-based policy allows the call but the caller is of another
	// account and no resource-based policy allows it too.
	MissingResourcePolicy bool
}

// Allowed reports whether the request may go ahead.
func (d Decision) Allowed() bool { return d.Reason == Allowed }

// Message is AWS's explanation of a denied request, as AccessDeniedException
// carries it: "User: <principal> is not authorized to perform: <action> on
// resource: <resource> because no identity-based policy allows the
// <action> action" (or "with an explicit deny in a resource-based policy",
// and so on). An allowed request has none.
func (d Decision) Message(req Request) string {
	head := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s ", req.Principal, req.Action, req.Resource)
	if req.Resource == "" {
		head = fmt.Sprintf("User: %s is not authorized to perform: %s ", req.Principal, req.Action)
	}
	kind, article := "identity-based", "an"
	if d.ResourceBased || d.MissingResourcePolicy {
		kind, article = "resource-based", "a"
	}
	switch d.Reason {
	case ExplicitDeny:
		return head + "with an explicit deny in " + article + " " + kind + " policy"
	case ImplicitDeny:
		return head + "because no " + kind + " policy allows the " + req.Action + " action"
	}
	return ""
}

// Evaluate decides req as AWS does, given the caller's identity-based
// policies and the resource's resource-based ones: an explicit deny in
// either wins. Otherwise a caller of the resource's account is allowed by
// an allow in its identity-based policies, or in a resource-based one that
// names it (or everyone, "*"); one that names only its account delegates
// to the account's identity-based policies, and allows nothing alone. A
// caller of another account needs an allow in both, the resource-based one
// naming it or its account. An account's root user has every
// identity-based permission of its account. Otherwise the request is
// implicitly denied.
func Evaluate(identity, resource []*Policy, req Request) Decision {
	ctx := facts{req: &req}
	var allowID, allowRes, allowAccount *Decision // allowAccount: a resource-based allow naming the caller's account only
	for _, set := range []struct {
		policies      []*Policy
		resourceBased bool
	}{{identity, false}, {resource, true}} {
		for _, p := range set.policies {
			for i := range p.Statements {
				st := &p.Statements[i]
				if !ctx.applies(st, set.resourceBased) {
					continue
				}
				d := Decision{Policy: p, Statement: st, ResourceBased: set.resourceBased}
				if st.Effect == Deny {
					d.Reason = ExplicitDeny
					return d
				}
				d.Reason = Allowed
				switch {
				case set.resourceBased && !ctx.namesCaller(st):
					if allowAccount == nil {
						allowAccount = &d
					}
				case set.resourceBased && allowRes == nil:
					allowRes = &d
				case !set.resourceBased && allowID == nil:
					allowID = &d
				}
			}
		}
	}
	caller, owner := accountOf(req.Principal), accountOf(req.Resource)
	sameAccount := req.Resource == "*" || owner == "" || caller == owner
	isRoot := req.Principal == "arn:aws:iam::"+caller+":root"
	if isRoot && allowID == nil {
		allowID = &Decision{Reason: Allowed}
	}
	switch {
	case sameAccount && allowID != nil:
		return *allowID
	case sameAccount && allowRes != nil:
		return *allowRes
	case !sameAccount && allowID != nil && allowRes != nil:
		return *allowRes
	case !sameAccount && allowID != nil && allowAccount != nil:
		return *allowAccount
	case !sameAccount && allowID != nil:
		return Decision{Reason: ImplicitDeny, MissingResourcePolicy: true}
	}
	return Decision{Reason: ImplicitDeny}
}

// namesCaller reports whether a resource-based statement (that applies)
// names the caller itself, or everyone: not only the caller's account.
func (c facts) namesCaller(st *Statement) bool {
	if st.Principals == nil {
		return true // NotPrincipal: everyone but those named
	}
	for _, p := range st.Principals {
		if matchPrincipal(p, c.req.Principal) && !isAccountPrincipal(p) {
			return true
		}
	}
	return false
}

// facts answers a statement's questions about one request.
type facts struct{ req *Request }

// applies reports whether st covers the request.
func (c facts) applies(st *Statement, resourceBased bool) bool {
	r := c.req
	if !c.anyOrNone(st.Actions, st.NotActions, func(p string) bool { return matchAction(p, r.Action) }) {
		return false
	}
	if !c.anyOrNone(st.Resources, st.NotResources, func(p string) bool { return matchARN(p, r.Resource) }) {
		return false
	}
	if resourceBased && !c.anyOrNone(st.Principals, st.NotPrincipals, func(p string) bool { return matchPrincipal(p, r.Principal) }) {
		return false
	}
	for _, cond := range st.Conditions {
		if !cond.holds(c.values(cond.Key)) {
			return false
		}
	}
	return true
}

// anyOrNone matches an element or its Not form: with yes set, any of yes;
// else none of not.
func (c facts) anyOrNone(yes, not []string, match func(string) bool) bool {
	list, want := yes, true
	if yes == nil {
		list, want = not, false
	}
	for _, p := range list {
		if match(p) {
			return want
		}
	}
	return !want
}

// values returns the request's values of a condition key, nil if it has
// none.
func (c facts) values(key string) []string {
	switch {
	case strings.EqualFold(key, "aws:PrincipalArn"):
		return []string{c.req.Principal}
	case strings.EqualFold(key, "aws:PrincipalAccount"):
		return []string{accountOf(c.req.Principal)}
	}
	if v, ok := c.req.Context[key]; ok {
		return v
	}
	for k, v := range c.req.Context {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	if c.req.Values != nil {
		return c.req.Values(key)
	}
	return nil
}
