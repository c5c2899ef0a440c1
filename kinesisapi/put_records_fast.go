package kinesisapi

import (
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/shardlog/shardlog"
)

// PutRecords carries most of the bytes a producer sends, so it has a
// decoder of its own for the shape SDKs send: no escapes, no nulls, only
// known members. Anything else makes fastPutRecords report false, and the
// request goes through encoding/json, which decides (and words the error).

// fastPutRecords decodes body into in without reflection and without
// copying the body: strings (keys, the stream name) are views of it, so body
// must not change while in is in use, and whatever keeps one of them beyond
// the request must copy it (the core does). Every record's data is decoded
// into one buffer, *data, reused if it is large enough and left there for
// the next call. Past 500 records it stops and reports false: the slow
// path then answers with AWS's error, without decoding the rest.
func fastPutRecords(body []byte, ref *streamRef, records *[]shardlog.PutInput, data *[]byte) bool {
	p := scanner{s: unsafe.String(unsafe.SliceData(body), len(body)), data: *data}
	defer func() { *data = p.data }()
	if !p.byte('{') {
		return false
	}
	for first := true; ; first = false {
		if p.byte('}') {
			break
		}
		if !first && !p.byte(',') {
			return false
		}
		key, ok := p.str()
		if !ok || !p.byte(':') {
			return false
		}
		switch key {
		case "StreamName", "StreamARN":
			v, ok := p.str()
			if !ok || v == "" { // the model's checks word an empty name
				return false
			}
			if key == "StreamName" {
				ref.StreamName = v
			} else {
				ref.StreamARN = v
			}
		case "Records":
			if !p.records(records) {
				return false
			}
		default:
			return false
		}
	}
	p.space()
	return p.i == len(p.s)
}

// strictBase64 refuses what AWS refuses: bits set past the data ("+/+=").
var strictBase64 = base64.StdEncoding.Strict()

type scanner struct {
	s    string
	i    int
	data []byte // for the records' data
}

func (p *scanner) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\n' || p.s[p.i] == '\r' || p.s[p.i] == '\t') {
		p.i++
	}
}

// byte consumes c, after white space, if it is next.
func (p *scanner) byte(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string without escapes or control characters. Most of a
// request's bytes are the base64 of its records' data, so the closing
// quote is found with IndexByte and the string checked eight bytes at a
// time.
func (p *scanner) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	n := strings.IndexByte(p.s[p.i:], '"')
	if n < 0 {
		return "", false
	}
	v := p.s[p.i : p.i+n]
	plain, ascii := plainString(v)
	if !plain {
		return "", false
	}
	p.i += n + 1
	// encoding/json replaces invalid UTF-8; leave that to it.
	return v, ascii || utf8.ValidString(v)
}

// plainString reports whether s has no backslash and no control
// character, and whether it is ASCII.
func plainString(s string) (plain, ascii bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	var high, bad uint64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		y := x ^ ones*'\\'
		high |= x
		bad |= (x-ones*0x20)&^x | (y-ones)&^y // a byte below 0x20; a backslash
	}
	if (high|bad)&highs != 0 {
		// The word tests are exact only as a whole: look at each byte.
		i = 0
	}
	ascii = true
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c < 0x20:
			return false, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return true, ascii
}

// records reads the Records array; the data of every record is decoded
// into one buffer.
func (p *scanner) records(out *[]shardlog.PutInput) bool {
	if !p.byte('[') {
		return false
	}
	// Decoded data is at most 3/4 of the rest of the body: appends never
	// move buf, so the records' views of it stay valid.
	buf := p.data[:0]
	if need := (len(p.s)-p.i)*3/4 + 1; cap(buf) < need {
		buf = make([]byte, 0, need)
	}
	recs := (*out)[:0]
	defer func() { *out, p.data = recs, buf[:0] }()
	for first := true; ; first = false {
		if p.byte(']') {
			return true
		}
		if !first && !p.byte(',') || !p.byte('{') || len(recs) == listLimits["Records"] {
			return false
		}
		var r shardlog.PutInput
		for firstKey := true; ; firstKey = false {
			if p.byte('}') {
				break
			}
			if !firstKey && !p.byte(',') {
				return false
			}
			key, ok := p.str()
			if !ok || !p.byte(':') {
				return false
			}
			v, ok := p.str()
			if !ok {
				return false
			}
			switch key {
			case "Data":
				start := len(buf)
				buf = buf[:start+base64.StdEncoding.DecodedLen(len(v))]
				n, err := strictBase64.Decode(buf[start:], []byte(v))
				if err != nil {
					return false
				}
				buf = buf[:start+n]
				r.Data = buf[start : start+n : start+n]
				if r.Data == nil {
					r.Data = []byte{}
				}
			case "PartitionKey":
				r.PartitionKey = v
			case "ExplicitHashKey":
				if v == "" { // breaks the model's pattern; the full check words it
					return false
				}
				r.ExplicitHashKey = v
			default:
				return false
			}
		}
		recs = append(recs, r)
	}
}

// appendPutRecordsOutput encodes a PutRecords result as encoding/json would
// encode {FailedRecordCount, Records: [{SequenceNumber, ShardId,
// ErrorCode, ErrorMessage}], EncryptionType} with empty members left out.
func appendPutRecordsOutput(b []byte, out *shardlog.PutBatchOutput) []byte {
	b = append(b, `{"FailedRecordCount":`...)
	b = strconv.AppendInt(b, int64(out.FailedRecordCount), 10)
	b = append(b, `,"Records":[`...)
	for i := range out.Records {
		e := &out.Records[i]
		if i > 0 {
			b = append(b, ',')
		}
		if e.ErrorCode == "" {
			b = append(b, `{"SequenceNumber":"`...)
			b, _ = e.SequenceNumber.AppendText(b)
			b = append(b, `","ShardId":`...)
			b = appendJSONString(b, e.ShardID)
		} else {
			b = append(b, `{"ErrorCode":`...)
			b = appendJSONString(b, e.ErrorCode)
			b = append(b, `,"ErrorMessage":`...)
			b = appendJSONString(b, e.ErrorMessage)
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	if out.EncryptionType != "" {
		b = append(b, `,"EncryptionType":`...)
		b = appendJSONString(b, string(out.EncryptionType))
	}
	return append(b, '}', '\n')
}
