package segment

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/shardlog/shardlog/internal/segfile"
	"github.com/stretchr/testify/require"
)

func payload(i int) []byte { return []byte(fmt.Sprintf("data-%d", i)) }

func readAll(s *Segment, from uint64) []Record {
	var out []Record
	c := s.Cursor(from)
	var r Record
	for c.Next(&r) {
		out = append(out, r)
	}
	return out
}

func TestAppendAndRead(t *testing.T) {
	var s Segment
	require.Equal(t, uint64(0), s.Len())
	require.Empty(t, readAll(&s, 0))
	const n = 5000
	for i := 0; i < n; i++ {
		require.Equal(t, uint64(i), s.Append(fmt.Sprintf("key-%d", i), payload(i), int64(i/10)))
	}
	require.Equal(t, uint64(n), s.Len())
	recs := readAll(&s, 0)
	require.Len(t, recs, n)
	for i, r := range recs {
		require.Equal(t, uint64(i), r.Pos)
		require.Equal(t, fmt.Sprintf("key-%d", i), r.Key)
		require.Equal(t, payload(i), r.Data)
		require.Equal(t, int64(i/10), r.Millis)
	}
	require.Len(t, readAll(&s, n-3), 3)
}

func TestEmptyKeyAndDataAndHugeRecords(t *testing.T) {
	var s Segment
	big := bytes.Repeat([]byte{7}, 3<<20) // larger than any slab
	s.Append("", nil, 1)
	s.Append("k", big, 2)
	s.Append("k2", []byte("x"), 3)
	recs := readAll(&s, 0)
	require.Len(t, recs, 3)
	require.Equal(t, "", recs[0].Key)
	require.Empty(t, recs[0].Data)
	require.Equal(t, big, recs[1].Data)
	require.Equal(t, "k2", recs[2].Key)
}

// A reader appending to returned data must not overwrite the next record.
func TestReturnedDataIsCapped(t *testing.T) {
	var s Segment
	s.Append("a", []byte("111"), 0)
	s.Append("b", []byte("222"), 0)
	recs := readAll(&s, 0)
	require.Equal(t, len(recs[0].Data), cap(recs[0].Data))
	_ = append(recs[0].Data, 'X')
	require.Equal(t, []byte("222"), readAll(&s, 1)[0].Data)
	require.Equal(t, "b", readAll(&s, 1)[0].Key)
}

func TestCopiesInput(t *testing.T) {
	var s Segment
	in := []byte("abc")
	s.Append("k", in, 0)
	in[0] = 'Z'
	require.Equal(t, []byte("abc"), readAll(&s, 0)[0].Data)
}

func TestSearchMillis(t *testing.T) {
	var s Segment
	require.Equal(t, uint64(0), s.SearchMillis(5))
	for i := 0; i < 3000; i++ {
		s.Append("k", nil, int64(i/3)*10) // 0,0,0,10,10,10,...
	}
	require.Equal(t, uint64(0), s.SearchMillis(-1))
	require.Equal(t, uint64(0), s.SearchMillis(0))
	require.Equal(t, uint64(3), s.SearchMillis(1))
	require.Equal(t, uint64(3), s.SearchMillis(10))
	require.Equal(t, uint64(2997), s.SearchMillis(9990))
	require.Equal(t, uint64(3000), s.SearchMillis(9991))
	s.TrimBefore(1500)
	require.Equal(t, uint64(1500), s.SearchMillis(0))
}

func TestTrimBefore(t *testing.T) {
	var s Segment
	for i := 0; i < 10000; i++ {
		s.Append("key", payload(i), int64(i))
	}
	total := s.Bytes()
	s.TrimBefore(4000)
	require.Equal(t, uint64(4000), s.Head())
	require.Equal(t, uint64(10000), s.Len())
	recs := readAll(&s, 0) // trimmed positions start at the head
	require.Len(t, recs, 6000)
	require.Equal(t, uint64(4000), recs[0].Pos)
	require.Equal(t, payload(4000), recs[0].Data)
	ms, ok := s.Millis(10)
	require.True(t, ok)
	require.Equal(t, int64(4000), ms)
	require.Less(t, s.Bytes(), total)

	s.TrimBefore(100) // never moves back
	require.Equal(t, uint64(4000), s.Head())
	s.TrimBefore(20000) // clamps to Len
	require.Equal(t, uint64(10000), s.Head())
	require.Equal(t, int64(0), s.Bytes())
	require.Empty(t, readAll(&s, 0))
	_, ok = s.Millis(0)
	require.False(t, ok)

	// Appends continue after trimming everything.
	require.Equal(t, uint64(10000), s.Append("k", []byte("z"), 1))
	recs = readAll(&s, 0)
	require.Len(t, recs, 1)
	require.Equal(t, []byte("z"), recs[0].Data)
}

// TestTrimReleasesMemory checks that trimmed slabs and chunks become garbage.
func TestTrimReleasesMemory(t *testing.T) {
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	var s Segment
	data := make([]byte, 1000)
	for i := 0; i < 100000; i++ { // ~100 MB
		s.Append("key", data, int64(i))
	}
	full := heap()
	require.Greater(t, full-before, uint64(90<<20))
	s.TrimBefore(s.Len() - 10)
	after := heap()
	require.Less(t, after-before, uint64(4<<20), "full %d MB, after trim %d MB", (full-before)>>20, (after-before)>>20)
	require.Len(t, readAll(&s, 0), 10)
	runtime.KeepAlive(&s)
}

// TestConcurrentAppendReadTrim runs a writer, readers and a trimmer at once;
// run with -race.
func TestConcurrentAppendReadTrim(t *testing.T) {
	var s Segment
	var mu sync.Mutex // the caller's serialization of Append and TrimBefore
	const n = 20000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			mu.Lock()
			s.Append("k", payload(i), int64(i))
			if i%3000 == 2999 {
				s.TrimBefore(uint64(i - 1000))
			}
			mu.Unlock()
		}
	}()
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.Cursor(0)
			var rec Record
			last := -1
			for c.Pos() < n {
				if !c.Next(&rec) {
					runtime.Gosched()
					continue
				}
				if int(rec.Pos) <= last {
					t.Errorf("position went back: %d after %d", rec.Pos, last)
					return
				}
				last = int(rec.Pos)
				if !bytes.Equal(rec.Data, payload(int(rec.Pos))) {
					t.Errorf("record %d has data %q", rec.Pos, rec.Data)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkAppend(b *testing.B) {
	var s Segment
	data := make([]byte, 100)
	b.ReportAllocs()
	b.SetBytes(116)
	for i := 0; i < b.N; i++ {
		s.Append("partition-key-01", data, int64(i))
	}
}

func BenchmarkCursor(b *testing.B) {
	var s Segment
	data := make([]byte, 100)
	for i := 0; i < 1<<20; i++ {
		s.Append("partition-key-01", data, int64(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	var r Record
	c := s.Cursor(0)
	for i := 0; i < b.N; i++ {
		if !c.Next(&r) {
			c.Seek(0)
		}
	}
}

func TestAddIsInvisibleUntilPublish(t *testing.T) {
	var s Segment
	s.Append("k", []byte("0"), 0)
	c := s.Cursor(0)
	var r Record
	require.True(t, c.Next(&r))
	add := func(data string) uint64 {
		pos, err := s.Add("k", []byte(data), 0, 0)
		require.NoError(t, err)
		return pos
	}
	require.Equal(t, uint64(1), add("1"))
	require.Equal(t, uint64(2), add("2"))
	require.Equal(t, uint64(1), s.Len(), "readers see only published records")
	require.Equal(t, uint64(3), s.Written())
	require.Equal(t, int64(2), s.Bytes())
	require.False(t, c.Next(&r))
	s.PublishTo(2)
	require.Equal(t, uint64(2), s.Len())
	require.Equal(t, int64(4), s.Bytes())
	s.Publish()
	require.Equal(t, uint64(3), s.Len())
	require.Equal(t, int64(6), s.Bytes())
	require.True(t, c.Next(&r))
	require.Equal(t, []byte("1"), r.Data)

	// Trimming never reaches records not yet published.
	add("3")
	require.Equal(t, int64(6), s.TrimBefore(4))
	require.Equal(t, uint64(3), s.Head())
	require.Equal(t, uint64(3), s.Len())
	require.Equal(t, int64(0), s.Bytes())
	s.Publish()
	require.Equal(t, int64(2), s.Bytes())
}

// memStorage keeps a durable segment's slabs in memory.
type memStorage struct{ slabs map[uint32][]byte }

func (m *memStorage) NewSlab(n uint32, first uint64, size int) ([]byte, []byte, error) {
	b := make([]byte, size)
	segfile.PutHeader(b, segfile.Header{File: n, First: first})
	m.slabs[n] = b
	return b, nil, nil
}
func (m *memStorage) SealSlab(n uint32, image []byte)   { m.slabs[n] = bytes.Clone(image) }
func (m *memStorage) LoadSlab(n uint32) ([]byte, error) { return m.slabs[n], nil }
func (m *memStorage) DropSlab(n uint32)                 { delete(m.slabs, n) }

// TestRestoreAtAnyPosition: a durable segment restored with no records at
// a position inside a chunk (its records all expired) takes new ones.
func TestRestoreAtAnyPosition(t *testing.T) {
	for _, first := range []uint64{0, 1, chunkLen - 1, chunkLen, 3*chunkLen + 17} {
		var s Segment
		s.Init(Options{Storage: &memStorage{slabs: map[uint32][]byte{}}})
		s.Restore(first, 9)
		for i := range 3 {
			pos, err := s.Add("k", payload(i), 1, 0)
			require.NoError(t, err)
			require.Equal(t, first+uint64(i), pos)
		}
		s.Publish()
		recs := readAll(&s, first)
		require.Len(t, recs, 3, "restored at %d", first)
		require.Equal(t, payload(2), recs[2].Data)
	}
}
