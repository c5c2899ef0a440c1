package kinesisapi

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/shardlog/shardlog"
)

// violations collects a request's constraint violations in the order AWS
// reports them and words them as AWS does: "1 validation error detected:
// Value null at 'streamARN' failed to satisfy constraint: Member must not
// be null", or "2 validation errors detected: ...; ...".
type violations []string

// required records a missing required member (named in camelCase).
func (v *violations) required(member string, missing bool) {
	if missing {
		*v = append(*v, "Value null at '"+member+"' failed to satisfy constraint: Member must not be null")
	}
}

// err returns the ValidationException for what was recorded, or nil.
func (v violations) err() error {
	if len(v) == 0 {
		return nil
	}
	head := "1 validation error detected: "
	if len(v) > 1 {
		head = strconv.Itoa(len(v)) + " validation errors detected: "
	}
	return &shardlog.Error{Code: shardlog.ErrValidation.Code, Message: head + strings.Join(v, "; ")}
}

// err words the kept violations as AWS does.
func (v *validator) err(root *shape) error {
	msgs := make(violations, len(v.kept)) // the first ten: as many as AWS counts
	for k := range v.kept {
		x := &v.kept[k]
		value := "null"
		if !x.null {
			value = "'" + v.show(x.start, x.end, x.shape) + "'"
		}
		msgs[k] = "Value " + value + " at '" + pathText(root, x.path[:x.depth]) + "' failed to satisfy constraint: " + x.c.text(x.shape)
	}
	return msgs.err()
}

// pathText names a violation's place as AWS does: "streamName",
// "startingPosition.type", "records.3.member.partitionKey".
func pathText(root *shape, path []uint32) string {
	var b strings.Builder
	s := root
	for k := 0; k < len(path); k++ {
		if s.kind != kindStructure || int(path[k]) >= len(s.members) {
			break
		}
		m := s.members[path[k]]
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(lowerFirst(m.name))
		s = m.shape
		if s.kind == kindList && k+1 < len(path) {
			k++
			if path[k] == 0 {
				break
			}
			b.WriteString("." + strconv.Itoa(int(path[k])) + ".member")
			s = s.elem
		}
	}
	return b.String()
}

// show words the value in body[start:end] as AWS's Java service prints it.
func (v *validator) show(start, end int, s *shape) string {
	raw := v.body[start:end]
	switch s.kind {
	case kindString:
		return unquote(raw)
	case kindBlob:
		n, _ := blobLength(raw[1 : len(raw)-1])
		l := strconv.FormatInt(n, 10)
		return "java.nio.HeapByteBuffer[pos=0 lim=" + l + " cap=" + l + "]"
	case kindList, kindMap:
		// Items are listed as AWS lists them, but not past maxShown bytes:
		// a hostile list must not make the answer as large as its body.
		var b strings.Builder
		open, closing, item := byte('['), byte(']'), s.elem
		if s.kind == kindMap {
			open, closing, item = '{', '}', s.value
		}
		b.WriteByte(open)
		w, cut := validator{body: raw}, false
		w.items(0, open, closing, func(i int, n int64) int {
			if cut = cut || b.Len() > maxShown || n > maxShownItems; cut {
				if !strings.HasSuffix(b.String(), "...") {
					b.WriteString(", ...")
				}
				if s.kind == kindMap {
					i, _ = w.key(i)
				}
				return w.skip(i, 0)
			}
			if n > 1 {
				b.WriteString(", ")
			}
			if s.kind == kindMap {
				_, _, next := w.str(i)
				if next < 0 {
					return -1
				}
				b.WriteString(showItem(raw[i:next], s.key) + "=")
				i, _ = w.key(i)
			}
			end := w.skip(i, 0)
			if end >= 0 {
				b.WriteString(showItem(raw[i:end], item))
			}
			return end
		})
		b.WriteByte(closing)
		return b.String()
	case kindStructure:
		return javaObject(raw, s)
	}
	return string(raw)
}

// showItem words a list element or map entry.
func showItem(raw []byte, s *shape) string {
	if s.kind == kindStructure {
		return javaObject(raw, s)
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
func javaObject(raw []byte, s *shape) string {
	h := fnv.New32a()
	h.Write(raw)
	return "com.amazonaws.kinesis.v20131202." + s.name + "@" + strconv.FormatUint(uint64(h.Sum32()), 16)
}
