package kinesisapi

import (
	"encoding/base64"
	"strconv"
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
// into one buffer. Past 500 records it stops and reports false: the slow
// path then answers with AWS's error, without decoding the rest.
func fastPutRecords(body []byte, ref *streamRef, records *[]shardlog.PutInput) bool {
	p := scanner{s: unsafe.String(unsafe.SliceData(body), len(body))}
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
	s string
	i int
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

// str reads a string without escapes or control characters.
func (p *scanner) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start, ascii := p.i, true
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '"':
			p.i++
			v := p.s[start : p.i-1]
			// encoding/json replaces invalid UTF-8; leave that to it.
			return v, ascii || utf8.ValidString(v)
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		p.i++
	}
	return "", false
}

// records reads the Records array; the data of every record is decoded
// into one buffer.
func (p *scanner) records(out *[]shardlog.PutInput) bool {
	if !p.byte('[') {
		return false
	}
	// Decoded data is at most 3/4 of the rest of the body.
	buf := make([]byte, 0, (len(p.s)-p.i)*3/4+1)
	recs := (*out)[:0]
	defer func() { *out = recs }()
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
func appendPutRecordsOutput(b []byte, out *shardlog.BatchResult) []byte {
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
		b = appendJSONString(b, out.EncryptionType)
	}
	return append(b, '}', '\n')
}
