// Package kpl decodes the records the Kinesis Producer Library aggregates:
// many user records in one Kinesis record, as the magic bytes F3 89 9A C2,
// a protobuf AggregatedRecord, and the MD5 of the protobuf bytes.
//
//	message AggregatedRecord {
//	  repeated string partition_key_table     = 1;
//	  repeated string explicit_hash_key_table = 2;
//	  repeated Record records                 = 3;
//	}
//	message Record {
//	  required uint64 partition_key_index     = 1;
//	  optional uint64 explicit_hash_key_index = 2;
//	  required bytes  data                    = 3;
//	  repeated Tag    tags                    = 4;
//	}
//
// The decoder is written by hand over the protobuf wire format, so that the
// core module needs no protobuf library.
package kpl

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"errors"
)

// Magic starts every aggregated record.
var Magic = []byte{0xF3, 0x89, 0x9A, 0xC2}

// UserRecord is one record of an aggregate. Its fields share the bytes of
// the aggregate.
type UserRecord struct {
	PartitionKey    string
	ExplicitHashKey string // "" if the record has none
	Data            []byte
}

var errMalformed = errors.New("kpl: malformed aggregated record")

// IsAggregated reports whether b is an aggregated record: the magic, then
// protobuf bytes whose MD5 ends it.
func IsAggregated(b []byte) bool {
	if len(b) < len(Magic)+md5.Size || !bytes.Equal(b[:len(Magic)], Magic) {
		return false
	}
	body := b[len(Magic) : len(b)-md5.Size]
	sum := md5.Sum(body)
	return bytes.Equal(sum[:], b[len(b)-md5.Size:])
}

// Decode calls yield with each user record of the aggregated record b, in
// order, until yield returns false. It returns an error, having yielded
// nothing, if b is not a well-formed aggregated record.
func Decode(b []byte, yield func(UserRecord) bool) error {
	if !IsAggregated(b) {
		return errMalformed
	}
	body := b[len(Magic) : len(b)-md5.Size]
	var keys, hashKeys []string
	var records [][]byte
	err := fields(body, func(num int, wire int, v uint64, p []byte) error {
		switch {
		case num == 1 && wire == wireBytes:
			keys = append(keys, string(p))
		case num == 2 && wire == wireBytes:
			hashKeys = append(hashKeys, string(p))
		case num == 3 && wire == wireBytes:
			records = append(records, p)
		case num <= 3:
			return errMalformed
		}
		return nil
	})
	if err != nil {
		return err
	}
	out := make([]UserRecord, 0, len(records))
	for _, rb := range records {
		var r UserRecord
		var haveKey, haveData bool
		err := fields(rb, func(num int, wire int, v uint64, p []byte) error {
			switch {
			case num == 1 && wire == wireVarint:
				if v >= uint64(len(keys)) {
					return errMalformed
				}
				r.PartitionKey, haveKey = keys[v], true
			case num == 2 && wire == wireVarint:
				if v >= uint64(len(hashKeys)) {
					return errMalformed
				}
				r.ExplicitHashKey = hashKeys[v]
			case num == 3 && wire == wireBytes:
				r.Data, haveData = p, true
			case num <= 3:
				return errMalformed
			}
			return nil
		})
		if err != nil || !haveKey || !haveData {
			return errMalformed
		}
		out = append(out, r)
	}
	for _, r := range out {
		if !yield(r) {
			break
		}
	}
	return nil
}

// Wire types of the protobuf encoding.
const (
	wireVarint = 0
	wire64     = 1
	wireBytes  = 2
	wire32     = 5
)

// fields calls f with each field of the protobuf message b: its number,
// wire type, and value (varints) or contents (length-delimited fields).
func fields(b []byte, f func(num, wire int, v uint64, p []byte) error) error {
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 || tag>>3 == 0 || tag>>3 > 1<<29 {
			return errMalformed
		}
		b = b[n:]
		num, wire := int(tag>>3), int(tag&7)
		var v uint64
		var p []byte
		switch wire {
		case wireVarint:
			if v, n = binary.Uvarint(b); n <= 0 {
				return errMalformed
			}
			b = b[n:]
		case wire64, wire32:
			size := 8
			if wire == wire32 {
				size = 4
			}
			if len(b) < size {
				return errMalformed
			}
			b = b[size:]
		case wireBytes:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return errMalformed
			}
			p, b = b[n:n+int(l)], b[n+int(l):]
		default:
			return errMalformed
		}
		if err := f(num, wire, v, p); err != nil {
			return err
		}
	}
	return nil
}

// Encode aggregates records as the Kinesis Producer Library does.
func Encode(records []UserRecord) []byte {
	var keys, hashKeys []string
	index := func(table *[]string, s string) uint64 {
		for i, t := range *table {
			if t == s {
				return uint64(i)
			}
		}
		*table = append(*table, s)
		return uint64(len(*table) - 1)
	}
	var recs [][]byte
	for _, r := range records {
		var m []byte
		m = appendVarintField(m, 1, index(&keys, r.PartitionKey))
		if r.ExplicitHashKey != "" {
			m = appendVarintField(m, 2, index(&hashKeys, r.ExplicitHashKey))
		}
		m = appendBytesField(m, 3, r.Data)
		recs = append(recs, m)
	}
	var body []byte
	for _, k := range keys {
		body = appendBytesField(body, 1, []byte(k))
	}
	for _, k := range hashKeys {
		body = appendBytesField(body, 2, []byte(k))
	}
	for _, m := range recs {
		body = appendBytesField(body, 3, m)
	}
	sum := md5.Sum(body)
	out := append(append([]byte{}, Magic...), body...)
	return append(out, sum[:]...)
}

func appendVarintField(b []byte, num int, v uint64) []byte {
	b = binary.AppendUvarint(b, uint64(num)<<3|wireVarint)
	return binary.AppendUvarint(b, v)
}

func appendBytesField(b []byte, num int, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(num)<<3|wireBytes)
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}
