package kpl

import (
	"crypto/md5"
	"encoding/binary"
)

// Overhead is what an aggregate adds to its records' protobuf bytes: the
// magic before them and the MD5 after.
const Overhead = 4 + md5.Size

// Aggregator packs user records into one aggregate incrementally, knowing
// its size before it is encoded, so that a producer can stop before a
// limit. Partition keys and explicit hash keys are stored once each. The
// zero value is empty and ready.
type Aggregator struct {
	keys, hashKeys []string
	keyIndex       map[string]uint64
	hashIndex      map[string]uint64
	records        []byte // the records' fields (field 3 of AggregatedRecord), encoded
	tables         int    // the bytes of the two key tables
	n              int
}

// Len returns the number of records added.
func (a *Aggregator) Len() int { return a.n }

// Size returns the size of the aggregate so far, magic and MD5 included.
func (a *Aggregator) Size() int { return Overhead + a.tables + len(a.records) }

// SizeWith returns the size the aggregate would have with one more record.
func (a *Aggregator) SizeWith(key, hashKey string, data int) int {
	size := a.Size()
	m := recordSize(a.indexOf(a.keyIndex, key, len(a.keys)), a.indexOfHash(hashKey), hashKey != "", data)
	size += fieldSize(m)
	if _, ok := a.keyIndex[key]; !ok {
		size += fieldSize(len(key))
	}
	if _, ok := a.hashIndex[hashKey]; hashKey != "" && !ok {
		size += fieldSize(len(hashKey))
	}
	return size
}

func (a *Aggregator) indexOf(index map[string]uint64, s string, next int) uint64 {
	if i, ok := index[s]; ok {
		return i
	}
	return uint64(next)
}

func (a *Aggregator) indexOfHash(hashKey string) uint64 {
	if hashKey == "" {
		return 0
	}
	return a.indexOf(a.hashIndex, hashKey, len(a.hashKeys))
}

// Add appends a record.
func (a *Aggregator) Add(key, hashKey string, data []byte) {
	if a.keyIndex == nil {
		a.keyIndex, a.hashIndex = map[string]uint64{}, map[string]uint64{}
	}
	ki, ok := a.keyIndex[key]
	if !ok {
		ki = uint64(len(a.keys))
		a.keyIndex[key] = ki
		a.keys = append(a.keys, key)
		a.tables += fieldSize(len(key))
	}
	var hi uint64
	if hashKey != "" {
		if hi, ok = a.hashIndex[hashKey]; !ok {
			hi = uint64(len(a.hashKeys))
			a.hashIndex[hashKey] = hi
			a.hashKeys = append(a.hashKeys, hashKey)
			a.tables += fieldSize(len(hashKey))
		}
	}
	m := recordSize(ki, hi, hashKey != "", len(data))
	a.records = binary.AppendUvarint(a.records, 3<<3|wireBytes)
	a.records = binary.AppendUvarint(a.records, uint64(m))
	a.records = appendVarintField(a.records, 1, ki)
	if hashKey != "" {
		a.records = appendVarintField(a.records, 2, hi)
	}
	a.records = appendBytesField(a.records, 3, data)
	a.n++
}

// Encode returns the aggregate: the magic, the AggregatedRecord and its MD5.
func (a *Aggregator) Encode() []byte {
	out := make([]byte, 0, a.Size())
	out = append(out, Magic...)
	for _, k := range a.keys {
		out = appendBytesField(out, 1, []byte(k))
	}
	for _, k := range a.hashKeys {
		out = appendBytesField(out, 2, []byte(k))
	}
	out = append(out, a.records...)
	sum := md5.Sum(out[len(Magic):])
	return append(out, sum[:]...)
}

// Reset empties the aggregator, keeping its memory.
func (a *Aggregator) Reset() {
	a.keys, a.hashKeys, a.records = a.keys[:0], a.hashKeys[:0], a.records[:0]
	clear(a.keyIndex)
	clear(a.hashIndex)
	a.tables, a.n = 0, 0
}

// recordSize is the size of a Record message's fields.
func recordSize(keyIndex, hashIndex uint64, hasHash bool, data int) int {
	n := 1 + uvarintLen(keyIndex) + fieldSize(data)
	if hasHash {
		n += 1 + uvarintLen(hashIndex)
	}
	return n
}

// fieldSize is the size of a bytes field of n bytes with a one-byte tag.
func fieldSize(n int) int { return 1 + uvarintLen(uint64(n)) + n }

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
