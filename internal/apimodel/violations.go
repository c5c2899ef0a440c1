package apimodel

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
)

// Violations collects a request's constraint violations in the order AWS
// reports them and words them as AWS does: "1 validation error detected:
// Value null at 'streamARN' failed to satisfy constraint: Member must not
// be null", or "2 validation errors detected: ...; ...".
type Violations []string

// Required records a missing required member (named in camelCase).
func (v *Violations) Required(member string, missing bool) {
	if missing {
		*v = append(*v, "Value null at '"+member+"' failed to satisfy constraint: Member must not be null")
	}
}

// Err returns the ValidationError for what was recorded, or nil.
func (v Violations) Err() error {
	if len(v) == 0 {
		return nil
	}
	head := "1 validation error detected: "
	if len(v) > 1 {
		head = strconv.Itoa(len(v)) + " validation errors detected: "
	}
	return &ValidationError{Message: head + strings.Join(v, "; ")}
}

// err words the kept violations as AWS does.
func (v *validator) err(root *Shape) error {
	msgs := make(Violations, len(v.kept)) // the first ten: as many as AWS counts
	for k := range v.kept {
		x := &v.kept[k]
		value := "null"
		if !x.null {
			value = "'" + v.show(x.start, x.end, x.shape) + "'"
		}
		msgs[k] = "Value " + value + " at '" + pathText(root, x.path[:x.depth]) + "' failed to satisfy constraint: " + x.c.text(x.shape)
	}
	return msgs.Err()
}

// pathText names a violation's place as AWS does: "streamName",
// "startingPosition.type", "records.3.member.partitionKey".
func pathText(root *Shape, path []uint32) string {
	var b strings.Builder
	s := root
	for k := 0; k < len(path); k++ {
		if s.Kind != Structure || int(path[k]) >= len(s.Members) {
			break
		}
		m := s.Members[path[k]]
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(lowerFirst(m.Name))
		s = m.Shape
		if s.Kind == List && k+1 < len(path) {
			k++
			if path[k] == 0 {
				break
			}
			b.WriteString("." + strconv.Itoa(int(path[k])) + ".member")
			s = s.Elem
		}
	}
	return b.String()
}

// show words the value in body[start:end] as AWS's Java service prints it.
func (v *validator) show(start, end int, s *Shape) string {
	raw := v.body[start:end]
	switch s.Kind {
	case String:
		return unquote(raw)
	case Blob:
		n, _ := blobLength(raw[1 : len(raw)-1])
		l := strconv.FormatInt(n, 10)
		return "java.nio.HeapByteBuffer[pos=0 lim=" + l + " cap=" + l + "]"
	case List, Map:
		// Items are listed as AWS lists them, but not past maxShown bytes:
		// a hostile list must not make the answer as large as its body.
		var b strings.Builder
		open, closing, item := byte('['), byte(']'), s.Elem
		if s.Kind == Map {
			open, closing, item = '{', '}', s.Value
		}
		b.WriteByte(open)
		w, cut := validator{body: raw}, false
		w.items(0, open, closing, func(i int, n int64) int {
			if cut = cut || b.Len() > maxShown || n > maxShownItems; cut {
				if !strings.HasSuffix(b.String(), "...") {
					b.WriteString(", ...")
				}
				if s.Kind == Map {
					i, _ = w.key(i)
				}
				return w.skip(i, 0)
			}
			if n > 1 {
				b.WriteString(", ")
			}
			if s.Kind == Map {
				_, _, next := w.str(i)
				if next < 0 {
					return -1
				}
				b.WriteString(v.showItem(raw[i:next], s.Key) + "=")
				i, _ = w.key(i)
			}
			end := w.skip(i, 0)
			if end >= 0 {
				b.WriteString(v.showItem(raw[i:end], item))
			}
			return end
		})
		b.WriteByte(closing)
		return b.String()
	case Structure:
		return v.javaObject(raw, s)
	}
	return string(raw)
}

// showItem words a list element or map entry.
func (v *validator) showItem(raw []byte, s *Shape) string {
	if s.Kind == Structure {
		return v.javaObject(raw, s)
	}
	if len(raw) >= 2 && raw[0] == '"' {
		return unquote(raw)
	}
	return string(raw)
}

// unquote returns the value of a JSON string.
func unquote(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var str string
	_ = json.Unmarshal(raw, &str)
	return str
}

// javaObject prints a structure as Java's Object.toString does: class name
// and hash code (here a hash of its JSON).
func (v *validator) javaObject(raw []byte, s *Shape) string {
	h := fnv.New32a()
	h.Write(raw)
	return v.javaPackage + "." + s.Name + "@" + strconv.FormatUint(uint64(h.Sum32()), 16)
}

// ValidationError is a request's violations of its shape's constraints,
// worded as AWS words its ValidationException.
type ValidationError struct{ Message string }

func (e *ValidationError) Error() string { return e.Message }

// SerializationError is a request body that is not JSON of its shape's
// types, worded as AWS's deserializer words its SerializationException.
type SerializationError struct{ Message string }

func (e *SerializationError) Error() string { return e.Message }

// lowerFirst is a member's name as AWS's messages give it: camelCase.
func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// maxEpochSeconds bounds wire timestamps: about 292 million years either
// way, past which the milliseconds would not fit an int64.
const maxEpochSeconds = math.MaxInt64 / 1000

// maxDepth bounds the nesting the validator walks.
const maxDepth = 32
