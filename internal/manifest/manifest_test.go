package manifest

import (
	"errors"
	"reflect"
	"testing"
)

func sample() *Manifest {
	return &Manifest{
		Region: "us-east-1", AccountID: "123456789012", TokenKey: make([]byte, 32), LastIncarnation: 4,
		Streams: []Stream{{
			Name: "s", Incarnation: 4, Created: 1, Active: 1, RetentionHours: 24, Mode: "PROVISIONED", Encryption: "NONE",
			Tags: map[string]string{"a": "b"}, NextShard: 3,
			Shards:    []Shard{{Index: 0, Start: "0", End: "9", Created: 1, ClosedAt: 2}, {Index: 2, Start: "0", End: "9", Parents: []string{"shardId-000000000000"}}},
			Consumers: []Consumer{{Name: "c", ARN: "arn", Created: 5}},
		}},
	}
}

func TestRoundTripAndRefusals(t *testing.T) {
	b, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(b)
	if err != nil || !reflect.DeepEqual(m, sample()) {
		t.Fatalf("round trip: %+v %v", m, err)
	}
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"truncated": b[:len(b)-1],
		"flipped":   append(append([]byte(nil), b[:len(b)-2]...), b[len(b)-2]^1, b[len(b)-1]),
		"not ours":  []byte("{}" + string(make([]byte, 30))),
	} {
		if _, err := Decode(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
	newer := append([]byte(nil), b...)
	newer[8] = Version + 1
	if _, err := Decode(newer); !errors.Is(err, ErrNewer) {
		t.Errorf("newer: %v", err)
	}
	zero := append([]byte(nil), b...)
	zero[8] = 0
	if _, err := Decode(zero); !errors.Is(err, ErrCorrupt) {
		t.Errorf("version 0: %v, want ErrCorrupt", err)
	}
}

// FuzzDecode: decoding never panics, and what decodes encodes back to a
// manifest that decodes the same.
func FuzzDecode(f *testing.F) {
	b, _ := Encode(sample())
	f.Add(b)
	f.Add([]byte("SHLGMAN\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := Decode(again)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-encoding changed it: %v", err)
		}
	})
}
