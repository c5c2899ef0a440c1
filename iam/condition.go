package iam

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// operators are the condition operators understood, each a test of one
// request value against one policy value.
var operators = map[string]struct {
	test    func(value, want string) bool
	negated bool // true for a key the request lacks
}{
	"StringEquals":              {test: func(v, w string) bool { return v == w }},
	"StringNotEquals":           {test: func(v, w string) bool { return v == w }, negated: true},
	"StringEqualsIgnoreCase":    {test: strings.EqualFold},
	"StringNotEqualsIgnoreCase": {test: strings.EqualFold, negated: true},
	"StringLike":                {test: func(v, w string) bool { return glob(w, v) }},
	"StringNotLike":             {test: func(v, w string) bool { return glob(w, v) }, negated: true},
	"ArnEquals":                 {test: func(v, w string) bool { return v == w }},
	"ArnNotEquals":              {test: func(v, w string) bool { return v == w }, negated: true},
	"ArnLike":                   {test: func(v, w string) bool { return matchARN(w, v) }},
	"ArnNotLike":                {test: func(v, w string) bool { return matchARN(w, v) }, negated: true},
	"IpAddress":                 {test: inPrefix},
	"NotIpAddress":              {test: inPrefix, negated: true},
	"Bool":                      {test: strings.EqualFold},
	"DateEquals":                {test: dates(func(c int) bool { return c == 0 })},
	"DateNotEquals":             {test: dates(func(c int) bool { return c == 0 }), negated: true},
	"DateLessThan":              {test: dates(func(c int) bool { return c < 0 })},
	"DateLessThanEquals":        {test: dates(func(c int) bool { return c <= 0 })},
	"DateGreaterThan":           {test: dates(func(c int) bool { return c > 0 })},
	"DateGreaterThanEquals":     {test: dates(func(c int) bool { return c >= 0 })},
	"NumericEquals":             {test: numbers(func(c int) bool { return c == 0 })},
	"NumericNotEquals":          {test: numbers(func(c int) bool { return c == 0 }), negated: true},
	"NumericLessThan":           {test: numbers(func(c int) bool { return c < 0 })},
	"NumericLessThanEquals":     {test: numbers(func(c int) bool { return c <= 0 })},
	"NumericGreaterThan":        {test: numbers(func(c int) bool { return c > 0 })},
	"NumericGreaterThanEquals":  {test: numbers(func(c int) bool { return c >= 0 })},
}

// splitOperator parses an operator as written: an optional ForAnyValue: or
// ForAllValues: qualifier, the operator, and an optional IfExists.
func splitOperator(op string) (qualifier, base string, ifExists bool, err error) {
	base = op
	if q, rest, ok := strings.Cut(op, ":"); ok {
		if q != "ForAnyValue" && q != "ForAllValues" {
			return "", "", false, fmt.Errorf("condition operator %q has an unknown qualifier", op)
		}
		qualifier, base = q, rest
	}
	base, ifExists = strings.CutSuffix(base, "IfExists")
	if _, ok := operators[base]; !ok && base != "Null" {
		return "", "", false, fmt.Errorf("condition operator %q is not supported", op)
	}
	return qualifier, base, ifExists, nil
}

// holds reports whether condition c holds for the request's values of its
// key (nil when the request lacks the key).
func (c Condition) holds(values []string) bool {
	qualifier, base, ifExists, _ := splitOperator(c.Operator) // checked by Parse
	if base == "Null" {
		// "true": the key must be absent; "false": present.
		want := strings.EqualFold(c.Values[0], "true")
		return (values == nil) == want
	}
	op := operators[base]
	if values == nil {
		switch {
		case ifExists:
			return true
		case qualifier == "ForAllValues":
			return true // every one of no values matches
		}
		return op.negated && qualifier == ""
	}
	anyMatch := func(v string) bool {
		for _, w := range c.Values {
			if op.test(v, w) {
				return true
			}
		}
		return false
	}
	switch qualifier {
	case "ForAllValues":
		for _, v := range values {
			if anyMatch(v) == op.negated {
				return false
			}
		}
		return true
	default: // a single-valued key, or ForAnyValue
		for _, v := range values {
			if anyMatch(v) != op.negated {
				return true
			}
		}
		return false
	}
}

// inPrefix reports whether IP address v lies in CIDR block (or address)
// w.
func inPrefix(v, w string) bool {
	addr, err := netip.ParseAddr(v)
	if err != nil {
		return false
	}
	if p, err := netip.ParsePrefix(w); err == nil {
		return p.Contains(addr.Unmap())
	}
	a, err := netip.ParseAddr(w)
	return err == nil && a.Unmap() == addr.Unmap()
}

// dates compares a request time with a policy time: RFC 3339 (or a date)
// or seconds since the epoch.
func dates(ok func(int) bool) func(v, w string) bool {
	return func(v, w string) bool {
		a, errA := parseTime(v)
		b, errB := parseTime(w)
		return errA == nil && errB == nil && ok(a.Compare(b))
	}
}

func parseTime(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time: %q", s)
}

func numbers(ok func(int) bool) func(v, w string) bool {
	return func(v, w string) bool {
		a, errA := strconv.ParseFloat(v, 64)
		b, errB := strconv.ParseFloat(w, 64)
		if errA != nil || errB != nil {
			return false
		}
		switch {
		case a < b:
			return ok(-1)
		case a > b:
			return ok(1)
		}
		return ok(0)
	}
}
