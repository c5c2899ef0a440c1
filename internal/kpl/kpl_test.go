package kpl

import (
	"crypto/md5"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
)

// protowireAggregate builds an aggregated record with the protobuf
// library's own wire encoder, independently of Encode: two keys, one
// explicit hash key, and tags (which Decode skips).
func protowireAggregate() []byte {
	var body []byte
	for _, k := range []string{"alpha", "beta"} {
		body = protowire.AppendTag(body, 1, protowire.BytesType)
		body = protowire.AppendString(body, k)
	}
	body = protowire.AppendTag(body, 2, protowire.BytesType)
	body = protowire.AppendString(body, "1234567890")
	record := func(key uint64, hashKey int, data string) []byte {
		var m []byte
		m = protowire.AppendTag(m, 1, protowire.VarintType)
		m = protowire.AppendVarint(m, key)
		if hashKey >= 0 {
			m = protowire.AppendTag(m, 2, protowire.VarintType)
			m = protowire.AppendVarint(m, uint64(hashKey))
		}
		m = protowire.AppendTag(m, 3, protowire.BytesType)
		m = protowire.AppendBytes(m, []byte(data))
		var tag []byte
		tag = protowire.AppendTag(tag, 1, protowire.BytesType)
		tag = protowire.AppendString(tag, "colour")
		m = protowire.AppendTag(m, 4, protowire.BytesType)
		return protowire.AppendBytes(m, tag)
	}
	for _, r := range [][]byte{record(0, -1, "one"), record(1, 0, "two"), record(0, -1, "")} {
		body = protowire.AppendTag(body, 3, protowire.BytesType)
		body = protowire.AppendBytes(body, r)
	}
	sum := md5.Sum(body)
	return append(append(append([]byte{}, Magic...), body...), sum[:]...)
}

func decodeAll(t *testing.T, b []byte) []UserRecord {
	t.Helper()
	var out []UserRecord
	require.NoError(t, Decode(b, func(r UserRecord) bool { out = append(out, r); return true }))
	return out
}

func TestDecodeWhatProtobufEncodes(t *testing.T) {
	require.Equal(t, []UserRecord{
		{PartitionKey: "alpha", Data: []byte("one")},
		{PartitionKey: "beta", ExplicitHashKey: "1234567890", Data: []byte("two")},
		{PartitionKey: "alpha", Data: []byte{}},
	}, decodeAll(t, protowireAggregate()))
}

func TestEncodeRoundTrips(t *testing.T) {
	in := []UserRecord{
		{PartitionKey: "k1", Data: []byte("a")},
		{PartitionKey: "k2", ExplicitHashKey: "42", Data: []byte("bb")},
		{PartitionKey: "k1", Data: []byte("ccc")},
	}
	require.Equal(t, in, decodeAll(t, Encode(in)))
}

func TestNotAggregated(t *testing.T) {
	good := protowireAggregate()
	badSum := append([]byte{}, good...)
	badSum[len(badSum)-1] ^= 1
	for name, b := range map[string][]byte{
		"plain":    []byte("hello, world, a plain record of some length"),
		"short":    Magic,
		"bad md5":  badSum,
		"empty":    nil,
		"zero sum": append(append([]byte{}, Magic...), make([]byte, 16)...),
	} {
		t.Run(name, func(t *testing.T) {
			require.False(t, IsAggregated(b))
			require.Error(t, Decode(b, func(UserRecord) bool { return true }))
		})
	}
}

// TestMalformedBodies: a correct MD5 over a body that is not a valid
// AggregatedRecord is an error, never a panic.
func TestMalformedBodies(t *testing.T) {
	for name, body := range map[string][]byte{
		"key index out of range": appendBytesField(appendBytesField(nil, 1, []byte("k")), 3, appendBytesField(appendVarintField(nil, 1, 5), 3, nil)),
		"no data":                appendBytesField(appendBytesField(nil, 1, []byte("k")), 3, appendVarintField(nil, 1, 0)),
		"truncated length":       {0x0a, 0x05, 'a'},
		"bad wire type":          {0x0b},
		"field zero":             {0x00, 0x01},
	} {
		t.Run(name, func(t *testing.T) {
			sum := md5.Sum(body)
			b := append(append(append([]byte{}, Magic...), body...), sum[:]...)
			require.Error(t, Decode(b, func(UserRecord) bool { return true }))
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(protowireAggregate())
	f.Add(Encode([]UserRecord{{PartitionKey: "k", Data: []byte("d")}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Fuzz bodies whose MD5 is right, or nothing past the check runs.
		body := b
		sum := md5.Sum(body)
		agg := append(append(append([]byte{}, Magic...), body...), sum[:]...)
		n := 0
		if err := Decode(agg, func(r UserRecord) bool { n++; return true }); err == nil {
			again := 0
			require.NoError(t, Decode(Encode(decodeAll(t, agg)), func(UserRecord) bool { again++; return true }))
			require.Equal(t, n, again)
		}
	})
}
