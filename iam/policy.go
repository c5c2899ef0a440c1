// Package iam reads IAM policy documents and decides requests against them
// as AWS documents it: an explicit deny wins, then an allow, else the
// request is implicitly denied. shardlog uses it to check the calls of
// principals (see shardlog.WithAccessControl); use it on its own to
// unit-test policies, with [Evaluate] as a policy simulator.
//
// The language covered: Version 2012-10-17 (or 2008-10-17); statements
// with Sid, Effect, Action or NotAction, Resource or NotResource, and, in
// resource-based policies, Principal or NotPrincipal ("*" or {"AWS": ...}
// with account IDs, root, user, role and assumed-role ARNs); wildcards *
// and ? in actions (case-insensitive) and in each part of an ARN; and
// Condition with the String, Arn, IpAddress, Bool, Null, Date and Numeric
// operators, their IfExists forms, and the ForAnyValue and ForAllValues
// qualifiers. Policy variables (${aws:username}) are not substituted: they
// match only themselves.
package iam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Effect is a statement's Allow or Deny.
type Effect string

// The two effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is a parsed policy document.
type Policy struct {
	// Name labels the policy in decisions (a role's name, say); not part
	// of the document.
	Name       string
	Version    string
	ID         string
	Statements []Statement
	// Document is the JSON the policy was parsed from.
	Document string
}

// Statement is one statement of a policy.
type Statement struct {
	Sid    string
	Effect Effect
	// Actions, or with NotActions set, every action but those.
	Actions, NotActions []string
	// Resources, or with NotResources set, every resource but those.
	Resources, NotResources []string
	// Principals (resource-based policies only): "*" for anyone, else
	// account IDs and ARNs; or, with NotPrincipals set, anyone but those.
	Principals, NotPrincipals []string
	Conditions                []Condition
}

// Condition is one test of a statement's Condition block: Operator on Key
// against Values (any of which may match).
type Condition struct {
	Operator string // as written, e.g. "ForAnyValue:StringLikeIfExists"
	Key      string
	Values   []string
}

// Parse reads a policy document. resourceBased says whether it is
// attached to a resource (then each statement needs a Principal or
// NotPrincipal) or to an identity (then none may have one). Errors say
// what is malformed, in the spirit of IAM's MalformedPolicyDocument.
func Parse(document string, resourceBased bool) (*Policy, error) {
	var doc struct {
		Version   string          `json:"Version"`
		ID        string          `json:"Id"`
		Statement json.RawMessage `json:"Statement"`
	}
	dec := json.NewDecoder(strings.NewReader(document))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("the policy is not a JSON object of Version, Id and Statement: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("the policy has content after its JSON object")
	}
	switch doc.Version {
	case "2012-10-17", "2008-10-17":
	case "":
		return nil, fmt.Errorf("the policy has no Version (use 2012-10-17)")
	default:
		return nil, fmt.Errorf("the policy's Version %q is not 2012-10-17 or 2008-10-17", doc.Version)
	}
	raw, err := oneOrMany[json.RawMessage](doc.Statement)
	if err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("the policy's Statement must be a statement or a non-empty list of them")
	}
	p := &Policy{Version: doc.Version, ID: doc.ID, Document: document}
	for i, r := range raw {
		st, err := parseStatement(r, resourceBased)
		if err != nil {
			return nil, fmt.Errorf("statement %d: %v", i+1, err)
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

// MustParse is Parse for documents known to be good; it panics otherwise.
func MustParse(document string, resourceBased bool) *Policy {
	p, err := Parse(document, resourceBased)
	if err != nil {
		panic(err)
	}
	return p
}

func parseStatement(raw json.RawMessage, resourceBased bool) (Statement, error) {
	var s struct {
		Sid          string                                `json:"Sid"`
		Effect       string                                `json:"Effect"`
		Action       json.RawMessage                       `json:"Action"`
		NotAction    json.RawMessage                       `json:"NotAction"`
		Resource     json.RawMessage                       `json:"Resource"`
		NotResource  json.RawMessage                       `json:"NotResource"`
		Principal    json.RawMessage                       `json:"Principal"`
		NotPrincipal json.RawMessage                       `json:"NotPrincipal"`
		Condition    map[string]map[string]json.RawMessage `json:"Condition"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Statement{}, fmt.Errorf("not a statement: %v", err)
	}
	st := Statement{Sid: s.Sid, Effect: Effect(s.Effect)}
	if st.Effect != Allow && st.Effect != Deny {
		return st, fmt.Errorf("Effect must be Allow or Deny, not %q", s.Effect)
	}
	var err error
	if st.Actions, st.NotActions, err = either("Action", s.Action, s.NotAction); err != nil {
		return st, err
	}
	for _, a := range slices.Concat(st.Actions, st.NotActions) {
		if a != "*" && !strings.Contains(a, ":") {
			return st, fmt.Errorf("action %q is not of the form service:action", a)
		}
	}
	if st.Resources, st.NotResources, err = either("Resource", s.Resource, s.NotResource); err != nil {
		return st, err
	}
	for _, r := range slices.Concat(st.Resources, st.NotResources) {
		if r != "*" && !strings.HasPrefix(r, "arn:") {
			return st, fmt.Errorf("resource %q is not an ARN or *", r)
		}
	}
	hasPrincipal := s.Principal != nil || s.NotPrincipal != nil
	switch {
	case resourceBased && !hasPrincipal:
		return st, fmt.Errorf("a resource-based policy's statement needs a Principal or NotPrincipal")
	case !resourceBased && hasPrincipal:
		return st, fmt.Errorf("an identity-based policy's statement has no Principal")
	}
	if st.Principals, err = principals(s.Principal); err != nil {
		return st, err
	}
	if st.NotPrincipals, err = principals(s.NotPrincipal); err != nil {
		return st, err
	}
	if s.Principal != nil && s.NotPrincipal != nil {
		return st, fmt.Errorf("a statement has Principal or NotPrincipal, not both")
	}
	ops := make([]string, 0, len(s.Condition))
	for op := range s.Condition {
		ops = append(ops, op)
	}
	slices.Sort(ops) // an order that does not depend on the map's
	for _, op := range ops {
		if _, _, _, err := splitOperator(op); err != nil {
			return st, err
		}
		keys := make([]string, 0, len(s.Condition[op]))
		for k := range s.Condition[op] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			values, err := scalars(s.Condition[op][k])
			if err != nil {
				return st, fmt.Errorf("condition %s on %s: %v", op, k, err)
			}
			st.Conditions = append(st.Conditions, Condition{Operator: op, Key: k, Values: values})
		}
	}
	return st, nil
}

// either reads the element name or Not<name>: exactly one must be there.
func either(name string, yes, not json.RawMessage) ([]string, []string, error) {
	switch {
	case yes != nil && not != nil:
		return nil, nil, fmt.Errorf("a statement has %s or Not%s, not both", name, name)
	case yes == nil && not == nil:
		return nil, nil, fmt.Errorf("a statement needs %s or Not%s", name, name)
	}
	in, out := yes, "" // which one
	if not != nil {
		in, out = not, "Not"
	}
	list, err := oneOrMany[string](in)
	if err != nil || len(list) == 0 {
		return nil, nil, fmt.Errorf("%s%s must be a string or a non-empty list of strings", out, name)
	}
	if out == "" {
		return list, nil, nil
	}
	return nil, list, nil
}

// principals reads a Principal element: "*" or {"AWS": one or many}.
// Other principal types (Service, Federated) are kept with their type and
// never match a caller of shardlog.
func principals(raw json.RawMessage) ([]string, error) {
	if raw == nil {
		return nil, nil
	}
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star != "*" {
			return nil, fmt.Errorf("a Principal string must be *, not %q", star)
		}
		return []string{"*"}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || len(m) == 0 {
		return nil, fmt.Errorf("a Principal must be * or an object such as {\"AWS\": ...}")
	}
	var out []string
	for typ, v := range m {
		list, err := oneOrMany[string](v)
		if err != nil || len(list) == 0 {
			return nil, fmt.Errorf("the Principal's %s must be a string or a non-empty list of strings", typ)
		}
		for _, p := range list {
			if typ != "AWS" {
				p = typ + ":" + p // never an ARN, account ID or *
			}
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, nil
}

// oneOrMany reads a JSON value that is one T or a list of them.
func oneOrMany[T any](raw json.RawMessage) ([]T, error) {
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		var many []T
		err := json.Unmarshal(raw, &many)
		return many, err
	}
	var one T
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil, err
	}
	return []T{one}, nil
}

// scalars reads a condition's value or values: strings, numbers and
// booleans, as text.
func scalars(raw json.RawMessage) ([]string, error) {
	list, err := oneOrMany[json.RawMessage](raw)
	if err != nil || len(list) == 0 {
		return nil, fmt.Errorf("the value must be a scalar or a non-empty list of them")
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out = append(out, s)
			continue
		}
		var n json.Number
		if json.Unmarshal(v, &n) == nil {
			out = append(out, n.String())
			continue
		}
		var b bool
		if json.Unmarshal(v, &b) == nil {
			out = append(out, fmt.Sprint(b))
			continue
		}
		return nil, fmt.Errorf("%s is not a string, number or boolean", v)
	}
	return out, nil
}
