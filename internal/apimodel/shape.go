package apimodel

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A Shape is one of an API model's shapes with the constraints AWS checks
// before an operation runs. Each API's model_gen.go declares them,
// generated from its model by internal/tools/modelgen.
type Shape struct {
	Name           string
	Kind           Kind
	HasMin, HasMax bool
	Min, Max       int64 // bounds of a length, or of an integer's value
	Pattern        string
	Enum           []string // in the order AWS lists them
	Elem           *Shape   // of a list
	Key, Value     *Shape   // of a map
	Members        []Member // of a structure, in the order AWS reports them

	match func(string) bool // pattern, compiled
}

// A Member is a structure's member.
type Member struct {
	Name     string
	Required bool
	Shape    *Shape
}

// Kind is what a shape is.
type Kind uint8

// The kinds of shapes.
const (
	String Kind = iota
	Blob
	Integer
	Number
	Boolean
	Timestamp
	List
	Map
	Structure
)

// Compile readies the shapes under roots for Validate, once, before
// they are used: it compiles their patterns.
func Compile(roots map[string]*Shape) {
	seen := map[*Shape]bool{}
	var compile func(s *Shape)
	compile = func(s *Shape) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		if s.Pattern != "" {
			s.match = matcher(s.Pattern)
		}
		compile(s.Elem)
		compile(s.Key)
		compile(s.Value)
		for _, m := range s.Members {
			compile(m.Shape)
		}
	}
	for _, s := range roots {
		compile(s)
	}
}

// matcher returns a function that reports whether a whole string matches
// a model pattern (Java's String.matches). The patterns every record and
// most calls meet are matched by hand; the rest by regexp. Go's regexp has
// no lookaround: a leading negative lookahead, ^(?!X)Y, is matched as
// "no prefix matches X, and the whole matches Y"; lookarounds elsewhere are
// dropped, which accepts a little more than the model does.
func matcher(pattern string) func(string) bool {
	switch pattern {
	case "[a-zA-Z0-9_.-]+":
		return isName
	case `0|([1-9]\d{0,38})`:
		return func(s string) bool { return isDecimal(s, 39) }
	case `0|([1-9]\d{0,128})`:
		return func(s string) bool { return isDecimal(s, 129) }
	}
	if m := lookahead.FindStringSubmatch(pattern); m != nil {
		not, rest := regexp.MustCompile(`^(?:`+m[1]+`)`), matcher(m[2])
		return func(s string) bool { return !not.MatchString(s) && rest(s) }
	}
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		re = regexp.MustCompile(`^(?:` + lookaround.ReplaceAllString(pattern, "") + `)$`)
	}
	return re.MatchString
}

var (
	lookahead  = regexp.MustCompile(`^\^\(\?!([^()]*)\)(.*)$`)
	lookaround = regexp.MustCompile(`\(\?<?[!=][^()]*\)`)
)

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

// StringOK reports whether v satisfies every constraint of a string shape;
// fast paths use it to skip the full check for well-formed input.
func (s *Shape) StringOK(v string) bool {
	if s.match != nil && !s.match(v) {
		return false
	}
	if s.HasMin || s.HasMax {
		n := int64(len(v)) // an upper bound of javaLength
		if s.HasMax && n > s.Max {
			n = javaLength(v)
		}
		if s.HasMin && n < s.Min || s.HasMax && n > s.Max {
			return false
		}
	}
	return s.Enum == nil || slices.Contains(s.Enum, v)
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
func (c constraint) text(s *Shape) string {
	switch c {
	case notNull:
		return "Member must not be null"
	case minValue:
		return "Member must have value greater than or equal to " + strconv.FormatInt(s.Min, 10)
	case maxValue:
		return "Member must have value less than or equal to " + strconv.FormatInt(s.Max, 10)
	case patternFailed:
		return "Member must satisfy regular expression pattern: " + s.Pattern
	case minLength:
		return "Member must have length greater than or equal to " + strconv.FormatInt(s.Min, 10)
	case maxLength:
		return "Member must have length less than or equal to " + strconv.FormatInt(s.Max, 10)
	case notInEnum:
		return "Member must satisfy enum value set: [" + strings.Join(s.Enum, ", ") + "]"
	case elemFailed:
		return "Member must satisfy constraint: [" + s.Elem.constraintSet() + "]"
	case keyFailed:
		return "Map keys must satisfy constraint: [" + s.Key.constraintSet() + "]"
	case valueFailed:
		return "Map value must satisfy constraint: [" + s.Value.constraintSet() + "]"
	}
	return ""
}

// constraintSet lists every constraint of a list's element or a map's key
// or value, as AWS does when one of them fails.
func (s *Shape) constraintSet() string {
	var parts []string
	if s.HasMax {
		parts = append(parts, maxLength.text(s))
	}
	if s.HasMin {
		parts = append(parts, minLength.text(s))
	}
	if s.Pattern != "" {
		parts = append(parts, patternFailed.text(s))
	}
	if s.Enum != nil {
		parts = append(parts, notInEnum.text(s))
	}
	return strings.Join(parts, ", ")
}
