package iam

import (
	"strings"
)

// glob reports whether s matches pattern, where * matches any run of
// characters and ? any one.
func glob(pattern, s string) bool { return globWith(pattern, s, false) }

// globFold is glob without regard to ASCII case.
func globFold(pattern, s string) bool { return globWith(pattern, s, true) }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func globWith(pattern, s string, fold bool) bool {
	// Iterative, with one backtrack point: linear in practice, no
	// recursion on hostile patterns.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i] || fold && pattern[p] != '*' && lower(pattern[p]) == lower(s[i])):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p, mark = star+1, mark+1
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchAction reports whether an action pattern (service:action, with
// wildcards, or *) matches action; both are case-insensitive.
func matchAction(pattern, action string) bool {
	return pattern == "*" || globFold(pattern, action)
}

// matchARN reports whether an ARN pattern matches arn: "*" matches
// anything; otherwise each of the six colon-separated parts is matched on
// its own (the last one, the resource, may hold colons of its own).
func matchARN(pattern, arn string) bool {
	if pattern == "*" {
		return true
	}
	if strings.Count(pattern, ":") < 5 || strings.Count(arn, ":") < 5 {
		return glob(pattern, arn)
	}
	for i := 0; i < 5; i++ {
		var p, a string
		p, pattern, _ = strings.Cut(pattern, ":")
		a, arn, _ = strings.Cut(arn, ":")
		if !glob(p, a) {
			return false
		}
	}
	return glob(pattern, arn)
}

// matchPrincipal reports whether a Principal element's entry names the
// caller: "*", its account (an ID or the root ARN), its ARN, or, for an
// assumed-role session, its role's ARN.
func matchPrincipal(entry, caller string) bool {
	if entry == "*" {
		return true
	}
	account := accountOf(caller)
	if entry == account || entry == "arn:aws:iam::"+account+":root" {
		return account != ""
	}
	if entry == caller {
		return true
	}
	// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION is role ROLE's.
	if rest, ok := strings.CutPrefix(caller, "arn:aws:sts::"+account+":assumed-role/"); ok {
		role, _, _ := strings.Cut(rest, "/")
		return entry == "arn:aws:iam::"+account+":role/"+role
	}
	return false
}

// isAccountPrincipal reports whether a Principal entry names an account
// (its ID, or its root user's ARN): in IAM, a grant to the account, which
// its own identity-based policies must then pass on to its principals.
func isAccountPrincipal(entry string) bool {
	if len(entry) == 12 && strings.Trim(entry, "0123456789") == "" {
		return true
	}
	rest, ok := strings.CutPrefix(entry, "arn:aws:iam::")
	return ok && strings.HasSuffix(rest, ":root") && len(rest) == 12+len(":root")
}

// accountOf returns the account ID of an ARN: its fifth part.
func accountOf(arn string) string {
	rest, ok := strings.CutPrefix(arn, "arn:")
	for i := 0; ok && i < 3; i++ {
		_, rest, ok = strings.Cut(rest, ":")
	}
	account, _, found := strings.Cut(rest, ":")
	if !ok || !found {
		return ""
	}
	return account
}
