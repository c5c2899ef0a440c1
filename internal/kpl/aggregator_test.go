package kpl

import (
	"bytes"
	"fmt"
	"testing"
)

// TestAggregatorMatchesEncode: the incremental aggregator writes what
// Encode writes, knows its size before each record, and decodes back.
func TestAggregatorMatchesEncode(t *testing.T) {
	var a Aggregator
	var in []UserRecord
	for i := range 300 {
		r := UserRecord{PartitionKey: fmt.Sprintf("key-%d", i%7), Data: bytes.Repeat([]byte{byte(i)}, i%150)}
		if i%3 == 0 {
			r.ExplicitHashKey = fmt.Sprint(i % 5)
		}
		want := a.SizeWith(r.PartitionKey, r.ExplicitHashKey, len(r.Data))
		a.Add(r.PartitionKey, r.ExplicitHashKey, r.Data)
		if a.Size() != want {
			t.Fatalf("record %d: SizeWith said %d, Size is %d", i, want, a.Size())
		}
		in = append(in, r)
		got := a.Encode()
		if len(got) != a.Size() {
			t.Fatalf("record %d: encoded %d bytes, Size %d", i, len(got), a.Size())
		}
		if !bytes.Equal(got, Encode(in)) {
			t.Fatalf("record %d: differs from Encode", i)
		}
	}
	n := 0
	if err := Decode(a.Encode(), func(u UserRecord) bool {
		if u.PartitionKey != in[n].PartitionKey || u.ExplicitHashKey != in[n].ExplicitHashKey || !bytes.Equal(u.Data, in[n].Data) {
			t.Fatalf("record %d decoded as %+v", n, u)
		}
		n++
		return true
	}); err != nil || n != len(in) {
		t.Fatalf("decoded %d of %d: %v", n, len(in), err)
	}
	a.Reset()
	if a.Len() != 0 || a.Size() != Overhead {
		t.Fatalf("after Reset: %d records, %d bytes", a.Len(), a.Size())
	}
}

// FuzzAggregator: any records round-trip through the aggregator, and the
// size it predicts is the size it writes.
func FuzzAggregator(f *testing.F) {
	f.Add([]byte("k\x00data\x01h\x02"), 3)
	f.Fuzz(func(t *testing.T, seed []byte, n int) {
		var a Aggregator
		var in []UserRecord
		for i := range min(max(n, 0), 50) {
			part := seed
			if len(part) > 0 {
				part = part[i%len(part):]
			}
			key := string(part[:min(len(part), 1+i%4)])
			if key == "" {
				key = "k"
			}
			r := UserRecord{PartitionKey: key, Data: part}
			if i%2 == 1 {
				r.ExplicitHashKey = fmt.Sprint(i)
			}
			want := a.SizeWith(r.PartitionKey, r.ExplicitHashKey, len(r.Data))
			a.Add(r.PartitionKey, r.ExplicitHashKey, r.Data)
			if a.Size() != want {
				t.Fatalf("SizeWith %d, Size %d", want, a.Size())
			}
			in = append(in, r)
		}
		if a.Len() == 0 {
			return
		}
		b := a.Encode()
		if len(b) != a.Size() || !IsAggregated(b) {
			t.Fatalf("encoded %d bytes, Size %d, aggregated %v", len(b), a.Size(), IsAggregated(b))
		}
		i := 0
		if err := Decode(b, func(u UserRecord) bool {
			if u.PartitionKey != in[i].PartitionKey || u.ExplicitHashKey != in[i].ExplicitHashKey || !bytes.Equal(u.Data, in[i].Data) {
				t.Fatalf("record %d: %+v", i, u)
			}
			i++
			return true
		}); err != nil || i != len(in) {
			t.Fatalf("decoded %d of %d: %v", i, len(in), err)
		}
	})
}
