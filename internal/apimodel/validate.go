package apimodel

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"unsafe"
)

// AWS checks a request against its model's constraints (required, length,
// range, pattern, enum) before it looks at anything else, and answers
// every violation at once, up to ten, in a fixed order: members in the
// order of awsOrder (internal/tools/modelgen), a member's checks in the order
// null, range, pattern, length, enum, a list's own checks before its
// elements'. validateBody walks the JSON body once against the generated
// shapes and words the answer as AWS does:
//
//	2 validation errors detected: Value '' at 'records.1.member.partitionKey'
//	failed to satisfy constraint: Member must have length greater than or
//	equal to 1; Value null at 'streamName' ...
//
// A body that is not JSON of the shape's types is not judged here: the
// decoder answers it with a SerializationException, as AWS's deserializer
// does before validation.

// maxReported is how many violations AWS lists.
const maxReported = 10

// maxShown and maxShownItems bound a list or map shown in a message.
const (
	maxShown      = 64 << 10
	maxShownItems = 1000
)

// maxPath bounds how deep a violation can sit: Kinesis inputs nest four
// levels.
const maxPath = 8

type violation struct {
	path       [maxPath]uint32 // member indexes; in a list, 0 for the list, i+1 for element i
	depth      uint8
	seq        uint32 // order of discovery, for ties
	c          constraint
	shape      *Shape // the failed value's shape
	null       bool
	start, end int // the value in the body
}

func (v *violation) less(w *violation) bool {
	for i := 0; i < int(min(v.depth, w.depth)); i++ {
		if v.path[i] != w.path[i] {
			return v.path[i] < w.path[i]
		}
	}
	if v.depth != w.depth {
		return v.depth < w.depth
	}
	return v.seq < w.seq
}

type validator struct {
	body        []byte
	javaPackage string // names structures in messages, as AWS's Java classes
	path        [maxPath]uint32
	depth       int
	seq         uint32
	total       int
	kept        []violation // the first maxReported in AWS's order, sorted
	bad         bool        // the body does not fit the shape's types
	serr        error       // a SerializationException the decoder let through
}

// Validate returns the ValidationError for body's violations of root's
// constraints, a SerializationError for a value a lenient decoder would
// let through, or nil if there are none or the body does not fit root's
// types (the decoder then words the error).
func Validate(body []byte, root *Shape, javaPackage string) error {
	_, err := Judge(body, root, javaPackage)
	return err
}

// Judge is Validate, and also says whether body fits root's types: a body
// that fits and has no violation decodes into no more than the model's
// bounds allow, so a server can decode it without fear of its size.
func Judge(body []byte, root *Shape, javaPackage string) (fits bool, err error) {
	if root == nil {
		return true, nil
	}
	v := validator{body: body, javaPackage: javaPackage}
	i := v.space(0)
	if i == len(body) {
		v.structureEnd(root, 0) // an empty body is an empty object
	} else if i = v.structure(i, root); i >= 0 && v.space(i) != len(body) {
		v.bad = true
	}
	if v.serr != nil {
		return false, v.serr
	}
	if v.bad || v.total == 0 {
		return !v.bad, nil
	}
	return true, v.err(root)
}

// Rewrite returns a copy of the shapes under roots, each passed through
// f, which may change it: for a server that checks a constraint of its
// own in place of the model's.
func Rewrite(roots map[string]*Shape, f func(*Shape)) map[string]*Shape {
	copies := map[*Shape]*Shape{}
	var cp func(s *Shape) *Shape
	cp = func(s *Shape) *Shape {
		if s == nil {
			return nil
		}
		if c, ok := copies[s]; ok {
			return c
		}
		c := *s
		copies[s] = &c
		c.Elem, c.Key, c.Value = cp(s.Elem), cp(s.Key), cp(s.Value)
		c.Members = append([]Member(nil), s.Members...)
		for i := range c.Members {
			c.Members[i].Shape = cp(s.Members[i].Shape)
		}
		f(&c)
		c.match = nil
		return &c
	}
	out := make(map[string]*Shape, len(roots))
	for op, s := range roots {
		out[op] = cp(s)
	}
	Compile(out)
	return out
}

func (v *validator) add(c constraint, s *Shape, null bool, start, end int) {
	v.total++
	v.seq++
	n := violation{path: v.path, depth: uint8(v.depth), seq: v.seq, c: c, shape: s, null: null, start: start, end: end}
	if len(v.kept) == maxReported {
		if !n.less(&v.kept[maxReported-1]) {
			return
		}
		v.kept = v.kept[:maxReported-1]
	}
	at := len(v.kept)
	for at > 0 && n.less(&v.kept[at-1]) {
		at--
	}
	v.kept = append(v.kept, violation{})
	copy(v.kept[at+1:], v.kept[at:])
	v.kept[at] = n
}

func (v *validator) push(i uint32) bool {
	if v.depth == maxPath {
		v.bad = true
		return false
	}
	v.path[v.depth] = i
	v.depth++
	return true
}

func (v *validator) pop() { v.depth-- }

// space returns the index of the first non-space byte from i (-1 stays
// -1, so that a failed read can be passed through).
func (v *validator) space(i int) int {
	for i >= 0 && i < len(v.body) {
		switch v.body[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// structure checks the object at i against s and returns the index after
// it, or -1 (and v.bad) if it is not an object.
func (v *validator) structure(i int, s *Shape) int {
	var seen, given uint64 // members given and not null; members given
	end, _ := v.items(i, '{', '}', func(i int, _ int64) int {
		i, key := v.key(i)
		if i < 0 {
			return -1
		}
		switch j := s.memberIndex(key); {
		case j < 0 && s.foldedMember(key):
			// Go's decoder would take it for the member it nearly names,
			// unchecked; AWS's ignores it. Refused, to be safe.
			v.serr = &SerializationError{"The request names the member " + key + " in a case the model does not."}
			return -1
		case j < 0: // not in the model: ignored, as AWS does
			return v.skip(i, 0)
		case given&(1<<j) != 0:
			// A member given twice: the decoder keeps the last, which
			// would go unchecked. Refused, to be safe.
			v.serr = &SerializationError{"The request gives the member " + key + " twice."}
			return -1
		case v.isNull(i):
			given |= 1 << j
			return i + 4
		default:
			given |= 1 << j
			seen |= 1 << j
			if !v.push(uint32(j)) {
				return -1
			}
			defer v.pop()
			return v.value(i, s.Members[j].Shape)
		}
	})
	if end >= 0 {
		v.structureEnd(s, seen)
	}
	return end
}

// items walks the list or object at i, which opens with open and closes
// with closing, calling each with the index and the number (from 1) of
// every item (an object's item starts at its key). It returns the index after the container and
// its number of items, or -1 (and v.bad) if it is malformed.
func (v *validator) items(i int, open, closing byte, each func(i int, n int64) int) (end int, n int64) {
	if i < 0 || i >= len(v.body) || v.body[i] != open {
		v.bad = true
		return -1, 0
	}
	if i = v.space(i + 1); i < len(v.body) && v.body[i] == closing {
		return i + 1, 0
	}
	for {
		n++
		if i = v.space(each(i, n)); i < 0 || i >= len(v.body) {
			v.bad = true
			return -1, n
		}
		switch v.body[i] {
		case closing:
			return i + 1, n
		case ',':
			i = v.space(i + 1)
		default:
			v.bad = true
			return -1, n
		}
	}
}

// key reads an object's key and its colon, and returns the index of the
// value and the key.
func (v *validator) key(i int) (int, string) {
	ks, ke, next := v.str(i)
	if i = v.space(next); i < 0 || i >= len(v.body) || v.body[i] != ':' {
		v.bad = true
		return -1, ""
	}
	return v.space(i + 1), v.text(ks, ke)
}

// structureEnd records the required members of s not seen.
func (v *validator) structureEnd(s *Shape, seen uint64) {
	for j, m := range s.Members {
		if m.Required && seen&(1<<j) == 0 && v.push(uint32(j)) {
			v.add(notNull, m.Shape, true, 0, 0)
			v.pop()
		}
	}
}

// foldedMember reports whether name is a member's name in other case.
func (s *Shape) foldedMember(name string) bool {
	for _, m := range s.Members {
		if strings.EqualFold(m.Name, name) {
			return true
		}
	}
	return false
}

func (s *Shape) memberIndex(name string) int {
	for j, m := range s.Members {
		if m.Name == name && j < 64 {
			return j
		}
	}
	return -1
}

func (v *validator) isNull(i int) bool {
	return i+4 <= len(v.body) && string(v.body[i:i+4]) == "null"
}

// value checks the value at i against s and returns the index after it.
func (v *validator) value(i int, s *Shape) int {
	start := i
	switch s.Kind {
	case String:
		ss, se, next := v.str(i)
		if next < 0 {
			return -1
		}
		str := v.text(ss, se)
		if s.match != nil && !s.match(str) {
			v.add(patternFailed, s, false, start, next)
		}
		if s.HasMin || s.HasMax {
			v.bounds(minLength, maxLength, s, javaLength(str), start, next)
		}
		if s.Enum != nil && !slices.Contains(s.Enum, str) {
			v.add(notInEnum, s, false, start, next)
		}
		return next
	case Blob:
		ss, se, next := v.str(i)
		if next < 0 {
			return -1
		}
		n, ok := blobLength(v.body[ss:se])
		if !ok {
			v.bad = true
			return -1
		}
		if !canonicalBase64(v.body[ss:se]) {
			// Go's decoder ignores bits past the data; AWS's does not.
			v.serr = &SerializationError{"'" + string(v.body[ss:se]) + "' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"}
			v.bad = true
			return -1
		}
		v.bounds(minLength, maxLength, s, n, start, next)
		return next
	case Integer:
		n, next := v.integer(i)
		if next < 0 {
			return -1
		}
		v.bounds(minValue, maxValue, s, n, start, next)
		return next
	case Number, Timestamp:
		next := v.number(i)
		f, err := strconv.ParseFloat(string(v.body[i:next]), 64)
		if err != nil || s.Kind == Timestamp && math.Abs(f) > maxEpochSeconds {
			v.bad = true // the decoder words it
			return -1
		}
		return next
	case Boolean:
		for _, lit := range []string{"true", "false"} {
			if i+len(lit) <= len(v.body) && string(v.body[i:i+len(lit)]) == lit {
				return i + len(lit)
			}
		}
		v.bad = true
		return -1
	case List:
		return v.list(i, s)
	case Map:
		return v.mapValue(i, s)
	case Structure:
		return v.structure(i, s)
	}
	v.bad = true
	return -1
}

// list checks a list: its elements (structures by member, others all at
// once), then its own length.
func (v *validator) list(i int, s *Shape) int {
	start, elemBad := i, false
	end, count := v.items(i, '[', ']', func(i int, n int64) int {
		if s.Elem.Kind != Structure {
			i, ok := v.quiet(i, s.Elem)
			elemBad = elemBad || !ok
			return i
		}
		if !v.push(uint32(min(n, 1<<31))) {
			return -1
		}
		defer v.pop()
		return v.structure(i, s.Elem)
	})
	if end < 0 || !v.push(0) {
		return -1
	}
	v.bounds(minLength, maxLength, s, count, start, end)
	if elemBad {
		v.add(elemFailed, s, false, start, end)
	}
	v.pop()
	return end
}

// mapValue checks a map: its length, then its keys and values all at once.
func (v *validator) mapValue(i int, s *Shape) int {
	start, keyBad, valueBad := i, false, false
	end, count := v.items(i, '{', '}', func(i int, _ int64) int {
		ok := true
		if i, ok = v.quiet(i, s.Key); i < 0 {
			return -1
		}
		keyBad = keyBad || !ok
		if i = v.space(i); i >= len(v.body) || v.body[i] != ':' {
			v.bad = true
			return -1
		}
		i, ok = v.quiet(v.space(i+1), s.Value)
		valueBad = valueBad || !ok
		return i
	})
	if end < 0 {
		return -1
	}
	v.bounds(minLength, maxLength, s, count, start, end)
	if keyBad {
		v.add(keyFailed, s, false, start, end)
	}
	if valueBad {
		v.add(valueFailed, s, false, start, end)
	}
	return end
}

// bounds records n (a length or a value) below or above s's bounds, as
// constraints below and above.
func (v *validator) bounds(below, above constraint, s *Shape, n int64, start, end int) {
	if s.HasMin && n < s.Min {
		v.add(below, s, false, start, end)
	}
	if s.HasMax && n > s.Max {
		v.add(above, s, false, start, end)
	}
}

// quiet checks a string element, key or value without recording what
// fails; it reports whether all its constraints hold.
func (v *validator) quiet(i int, s *Shape) (int, bool) {
	if s.Kind != String {
		before := v.total
		next := v.value(i, s)
		return next, v.total == before
	}
	ss, se, next := v.str(i)
	if next < 0 {
		return -1, false
	}
	return next, s.StringOK(v.text(ss, se))
}

// str reads the string at i: the bounds of its contents and the index
// after its closing quote, or next -1 (and v.bad) if there is none.
func (v *validator) str(i int) (start, end, next int) {
	if i >= len(v.body) || v.body[i] != '"' {
		v.bad = true
		return 0, 0, -1
	}
	for j := i + 1; j < len(v.body); j++ {
		switch v.body[j] {
		case '\\':
			j++
		case '"':
			return i + 1, j, j + 1
		}
	}
	v.bad = true
	return 0, 0, -1
}

// text is the value of the string whose contents are body[start:end]: a
// view of the body unless it has escapes.
func (v *validator) text(start, end int) string {
	raw := v.body[start:end]
	for _, c := range raw {
		if c == '\\' {
			var s string
			if json.Unmarshal(v.body[start-1:end+1], &s) != nil {
				v.bad = true
			}
			return s
		}
	}
	return unsafe.String(unsafe.SliceData(raw), len(raw))
}

// number returns the index after the number at i (i if there is none).
func (v *validator) number(i int) int {
	j := i
	for j < len(v.body) && strings.IndexByte("+-0123456789.eE", v.body[j]) >= 0 {
		j++
	}
	return j
}

// integer reads a whole number that fits a Java int or long.
func (v *validator) integer(i int) (int64, int) {
	next := v.number(i)
	n, err := strconv.ParseInt(string(v.body[i:next]), 10, 64)
	if err != nil {
		v.bad = true
		return 0, -1
	}
	return n, next
}

// skip returns the index after the value at i, whatever it is.
func (v *validator) skip(i, depth int) int {
	if depth > maxDepth || i < 0 || i >= len(v.body) {
		v.bad = true
		return -1
	}
	switch v.body[i] {
	case '"':
		_, _, next := v.str(i)
		return next
	case '{':
		end, _ := v.items(i, '{', '}', func(i int, _ int64) int {
			i, _ = v.key(i)
			return v.skip(i, depth+1)
		})
		return end
	case '[':
		end, _ := v.items(i, '[', ']', func(i int, _ int64) int { return v.skip(i, depth+1) })
		return end
	case 't', 'f', 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if i+len(lit) <= len(v.body) && string(v.body[i:i+len(lit)]) == lit {
				return i + len(lit)
			}
		}
		v.bad = true
		return -1
	}
	if next := v.number(i); next > i {
		return next
	}
	v.bad = true
	return -1
}

// blobLength is the decoded length of standard, padded base64, or false if
// it cannot be base64 (the decoder then words the error).
func blobLength(b []byte) (int64, bool) {
	if len(b)%4 != 0 {
		return 0, false
	}
	pad := 0
	for pad < 2 && pad < len(b) && b[len(b)-1-pad] == '=' {
		pad++
	}
	return int64(len(b)/4*3 - pad), true
}

// canonicalBase64 reports whether padded base64 leaves the bits past its
// data zero, as strict decoders require ("+/+=" does not).
func canonicalBase64(b []byte) bool {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	n := len(b)
	switch {
	case n >= 4 && b[n-2] == '=':
		return strings.IndexByte(alphabet, b[n-3])&15 == 0
	case n >= 4 && b[n-1] == '=':
		return strings.IndexByte(alphabet, b[n-2])&3 == 0
	}
	return true
}
