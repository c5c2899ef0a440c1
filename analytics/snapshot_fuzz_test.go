package analytics

import (
	"math"
	"testing"
	"time"
)

// FuzzSnapshot: whatever a snapshot holds, restoring it fails with an
// error or gives windows that fire and encode again; never a panic.
func FuzzSnapshot(f *testing.F) {
	for _, w := range []Window{Tumbling(time.Minute), Hopping(time.Minute, 20*time.Second), Session(30 * time.Second)} {
		s := newWindows[int64, string, int64, int64](w, 0, Count[int64](), "job")
		for i, k := range []string{"a", "b", "a", "c"} {
			s.add(k, int64(i)*int64(25*time.Second), 1)
		}
		pending := s.advance(int64(40*time.Second), nil)
		data, err := s.encode(map[string]shardState{"s/shardId-000000000000": {MaxEventTime: 7}}, pending)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(w.kind))
	}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		w := []Window{Tumbling(time.Minute), Hopping(time.Minute, 20*time.Second), Session(30 * time.Second)}[kind%3]
		s := newWindows[int64, string, int64, int64](w, 0, Count[int64](), "job")
		shards, pending, err := s.decode(data)
		if err != nil {
			return
		}
		s.add("x", 0, 1)
		pending = s.advance(math.MaxInt64, pending)
		if _, err := s.encode(shards, pending); err != nil {
			t.Fatal(err)
		}
	})
}
