package kinesisapi

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shardlog/shardlog"
)

// Responses that carry records (GetRecords, SubscribeToShard events) are
// written straight from the shard's storage to the connection: their JSON
// never exists whole in memory, so a client that reads slowly, or not at
// all, holds a small buffer and not megabytes of base64. Each such body is
// laid out once by an emit function against a sink: first a sink that only
// counts (for Content-Length, or an event's prelude), then one that writes.

// sink receives a JSON body in pieces.
type sink interface {
	write(p []byte)
	writeBase64(data []byte)
}

// counter is a sink that only measures.
type counter struct{ n int }

func (c *counter) write(p []byte)          { c.n += len(p) }
func (c *counter) writeBase64(data []byte) { c.n += base64.StdEncoding.EncodedLen(len(data)) }

// writer is a sink that writes through a fixed buffer, keeping the CRC32
// of everything it wrote (for event-stream frames) and the first error.
type writer struct {
	w   io.Writer
	buf []byte
	crc uint32
	err error
}

const writerBuffer = 32 << 10

var writerPool = sync.Pool{New: func() any { return &writer{buf: make([]byte, 0, writerBuffer)} }}

func getWriter(w io.Writer) *writer {
	x := writerPool.Get().(*writer)
	x.w, x.crc, x.err = w, 0, nil
	return x
}

func putWriter(x *writer) {
	x.w, x.buf = nil, x.buf[:0]
	writerPool.Put(x)
}

func (x *writer) write(p []byte) {
	for len(p) > 0 {
		if len(x.buf) == cap(x.buf) {
			x.flush()
		}
		n := copy(x.buf[len(x.buf):cap(x.buf)], p)
		x.buf = x.buf[:len(x.buf)+n]
		p = p[n:]
	}
}

func (x *writer) writeBase64(data []byte) {
	enc := base64.StdEncoding
	for len(data) > 0 {
		room := (cap(x.buf) - len(x.buf)) / 4 * 3 // input bytes that fit, in whole 3-byte groups
		if room == 0 {
			x.flush()
			continue
		}
		n := min(room, len(data)) // padding only at the very end
		m := enc.EncodedLen(n)
		enc.Encode(x.buf[len(x.buf):len(x.buf)+m], data[:n])
		x.buf = x.buf[:len(x.buf)+m]
		data = data[n:]
	}
}

func (x *writer) flush() {
	if len(x.buf) == 0 {
		return
	}
	x.crc = crc32.Update(x.crc, crc32.IEEETable, x.buf)
	if x.err == nil {
		_, x.err = x.w.Write(x.buf)
	}
	x.buf = x.buf[:0]
}

// streamed is a response body written straight to the client.
type streamed interface {
	emit(s sink)
}

// writeStreamed writes a streamed JSON response with its Content-Length.
func writeStreamed(w http.ResponseWriter, status int, body streamed) {
	var c counter
	body.emit(&c)
	w.Header().Set("Content-Type", jsonType)
	w.Header().Set("Content-Length", strconv.Itoa(c.n))
	w.WriteHeader(status)
	x := getWriter(w)
	body.emit(x)
	x.flush()
	putWriter(x)
}

// writeFrame writes an event-stream frame whose payload is body.
func writeFrame(w io.Writer, headers []header, body streamed, scratch []byte) ([]byte, error) {
	var c counter
	body.emit(&c)
	scratch = appendFrameHead(scratch[:0], headers, c.n)
	x := getWriter(w)
	defer putWriter(x)
	x.write(scratch)
	body.emit(x)
	x.flush()
	scratch = binary.BigEndian.AppendUint32(scratch[:0], x.crc)
	x.write(scratch)
	x.flush()
	return scratch, x.err
}

// recordsBody is the JSON of records, with scratch space for the parts
// around each record's data.
type recordsBody struct {
	records    []shardlog.Record
	encryption string // "KMS", or "" for none
	scratch    []byte
}

func newRecordsBody(recs []shardlog.Record, encryption shardlog.EncryptionType) recordsBody {
	if encryption == shardlog.EncryptionNone {
		encryption = ""
	}
	return recordsBody{records: recs, encryption: string(encryption)}
}

// emit writes the array of records, as encoding/json would write
// []wireRecord (but for HTML escaping, which JSON does not need).
func (b *recordsBody) emit(s sink) {
	s.write([]byte{'['})
	for i := range b.records {
		r := &b.records[i]
		p := b.scratch[:0]
		if i > 0 {
			p = append(p, ',')
		}
		p = append(p, `{"SequenceNumber":"`...)
		p, _ = r.SequenceNumber.AppendText(p)
		p = append(p, `","ApproximateArrivalTimestamp":`...)
		p = appendEpoch(p, r.ApproximateArrivalTimestamp)
		p = append(p, `,"Data":"`...)
		s.write(p)
		s.writeBase64(r.Data)
		p = append(p[:0], `","PartitionKey":`...)
		p = appendJSONString(p, r.PartitionKey)
		if b.encryption != "" {
			p = append(p, `,"EncryptionType":`...)
			p = appendJSONString(p, b.encryption)
		}
		p = append(p, '}')
		s.write(p)
		b.scratch = p
	}
	s.write([]byte{']'})
}

// appendEpoch appends a wire timestamp: seconds since the epoch, with three
// decimals unless they are zero.
func appendEpoch(b []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		return strconv.AppendInt(b, ms/1000, 10)
	}
	// strconv.AppendFloat(b, float64(ms)/1000, 'f', 3, 64), in integers: a
	// third of GetRecords' time went to formatting floats.
	u := uint64(ms)
	if ms < 0 {
		b, u = append(b, '-'), -u
	}
	b = strconv.AppendUint(b, u/1000, 10)
	f := u % 1000
	return append(b, '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD, and U+2028
// and U+2029 escaped, as encoding/json does (without its HTML escaping).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// emitChildShards writes ,"ChildShards":[...] if there are any.
func emitChildShards(s sink, in []shardlog.ChildShard) {
	if len(in) == 0 {
		return
	}
	j, _ := json.Marshal(childShards(in)) // small: two shards at most
	s.write([]byte(`,"ChildShards":`))
	s.write(j)
}
