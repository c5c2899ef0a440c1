package kinesisapi

//go:generate go run ../internal/tools/modelgen

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A shape is one of the API model's shapes with the constraints AWS checks
// before an operation runs. model_gen.go declares them, generated from the
// model by internal/tools/modelgen.
type shape struct {
	name           string
	kind           kind
	hasMin, hasMax bool
	min, max       int64 // bounds of a length, or of an integer's value
	pattern        string
	enum           []string // in the order AWS lists them
	elem           *shape   // of a list
	key, value     *shape   // of a map
	members        []member // of a structure, in the order AWS reports them

	match func(string) bool // pattern, compiled
}

type member struct {
	name     string
	required bool
	shape    *shape
}

type kind uint8

const (
	kindString kind = iota
	kindBlob
	kindInteger
	kindNumber
	kindBoolean
	kindTimestamp
	kindList
	kindMap
	kindStructure
)

func init() {
	seen := map[*shape]bool{}
	var compile func(s *shape)
	compile = func(s *shape) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		if s.pattern != "" {
			s.match = matcher(s.pattern)
		}
		compile(s.elem)
		compile(s.key)
		compile(s.value)
		for _, m := range s.members {
			compile(m.shape)
		}
	}
	for _, s := range inputShapes {
		compile(s)
	}
}

// matcher returns a function that reports whether a whole string matches
// a model pattern (Java's String.matches). The patterns every record and
// most calls meet are matched by hand; the rest by regexp.
func matcher(pattern string) func(string) bool {
	switch pattern {
	case "[a-zA-Z0-9_.-]+":
		return isName
	case `0|([1-9]\d{0,38})`:
		return func(s string) bool { return isDecimal(s, 39) }
	case `0|([1-9]\d{0,128})`:
		return func(s string) bool { return isDecimal(s, 129) }
	}
	re := regexp.MustCompile(`^(?:` + pattern + `)$`)
	return re.MatchString
}

// isName matches [a-zA-Z0-9_.-]+.
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// isDecimal matches 0|([1-9]\d{0,maxDigits-1}).
func isDecimal(s string, maxDigits int) bool {
	if s == "" || len(s) > maxDigits || s[0] == '0' && len(s) > 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// javaLength is the length of s as Java counts it: in UTF-16 code units.
func javaLength(s string) int64 {
	n := int64(0)
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}

// stringOK reports whether s satisfies every constraint of a string shape;
// the fast paths use it to skip the full check for well-formed input.
func (s *shape) stringOK(v string) bool {
	if s.match != nil && !s.match(v) {
		return false
	}
	if s.hasMin || s.hasMax {
		n := int64(len(v)) // an upper bound of javaLength
		if s.hasMax && n > s.max {
			n = javaLength(v)
		}
		if s.hasMin && n < s.min || s.hasMax && n > s.max {
			return false
		}
	}
	return s.enum == nil || slices.Contains(s.enum, v)
}

// constraint is one failed check, in AWS's words.
type constraint uint8

const (
	notNull constraint = iota
	minValue
	maxValue
	patternFailed
	minLength
	maxLength
	notInEnum
	elemFailed  // a list's element
	keyFailed   // a map's key
	valueFailed // a map's value
)

// text words a failed constraint of shape s as AWS does.
func (c constraint) text(s *shape) string {
	switch c {
	case notNull:
		return "Member must not be null"
	case minValue:
		return "Member must have value greater than or equal to " + strconv.FormatInt(s.min, 10)
	case maxValue:
		return "Member must have value less than or equal to " + strconv.FormatInt(s.max, 10)
	case patternFailed:
		return "Member must satisfy regular expression pattern: " + s.pattern
	case minLength:
		return "Member must have length greater than or equal to " + strconv.FormatInt(s.min, 10)
	case maxLength:
		return "Member must have length less than or equal to " + strconv.FormatInt(s.max, 10)
	case notInEnum:
		return "Member must satisfy enum value set: [" + strings.Join(s.enum, ", ") + "]"
	case elemFailed:
		return "Member must satisfy constraint: [" + s.elem.constraintSet() + "]"
	case keyFailed:
		return "Map keys must satisfy constraint: [" + s.key.constraintSet() + "]"
	case valueFailed:
		return "Map value must satisfy constraint: [" + s.value.constraintSet() + "]"
	}
	return ""
}

// constraintSet lists every constraint of a list's element or a map's key
// or value, as AWS does when one of them fails.
func (s *shape) constraintSet() string {
	var parts []string
	if s.hasMax {
		parts = append(parts, maxLength.text(s))
	}
	if s.hasMin {
		parts = append(parts, minLength.text(s))
	}
	if s.pattern != "" {
		parts = append(parts, patternFailed.text(s))
	}
	if s.enum != nil {
		parts = append(parts, notInEnum.text(s))
	}
	return strings.Join(parts, ", ")
}
