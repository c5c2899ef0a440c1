package segment

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
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

// memStorage keeps a durable segment's slabs in memory. A slab in fail
// does not load; one in flipped loads with that byte flipped, not whole.
type memStorage struct {
	slabs   map[uint32][]byte
	fail    map[uint32]error
	flipped map[uint32]int
}

func (m *memStorage) NewSlab(n uint32, first uint64, size int) ([]byte, []byte, error) {
	b := make([]byte, size)
	segfile.PutHeader(b, segfile.Header{File: n, First: first})
	m.slabs[n] = b
	return b, nil, nil
}
func (m *memStorage) FinishSlab(n uint32, image []byte) { m.slabs[n] = bytes.Clone(image) }
func (m *memStorage) DropSlab(n uint32)                 { delete(m.slabs, n) }
func (m *memStorage) DiscardSlab(n uint32)              { delete(m.slabs, n) }

func (m *memStorage) LoadSlab(n uint32) ([]byte, bool, error) {
	if err := m.fail[n]; err != nil {
		return nil, false, err
	}
	if off, ok := m.flipped[n]; ok {
		b := bytes.Clone(m.slabs[n])
		b[off] ^= 1
		return b, false, nil
	}
	return m.slabs[n], true, nil
}

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

// readDamaged reads s from pos to its end, skipping damage as it finds it:
// the records' positions, and the damage errors.
func readDamaged(t *testing.T, s *Segment, pos uint64) (got []uint64, damage []*DamageError) {
	t.Helper()
	c := s.Cursor(pos)
	var r Record
	for {
		for c.Next(&r) {
			require.Equal(t, payload(int(r.Pos)), r.Data)
			got = append(got, r.Pos)
		}
		err := c.Err()
		if err == nil {
			return got, damage
		}
		var d *DamageError
		require.ErrorAs(t, err, &d)
		require.Equal(t, c.Pos(), d.From, "the cursor stays at the damage")
		damage = append(damage, d)
		c.Seek(d.To)
	}
}

// TestDamagedRecordsFailAndCanBeSkipped: a slab that does not load, a
// frame that fails its checksum and records restored as lost each make a
// cursor fail with a DamageError naming exactly them; seeking past it
// reads on.
func TestDamagedRecordsFailAndCanBeSkipped(t *testing.T) {
	st := &memStorage{slabs: map[uint32][]byte{}, fail: map[uint32]error{}, flipped: map[uint32]int{}}
	var s Segment
	s.Init(Options{Storage: st, MaxSlab: 64 << 10, Cached: 1, Seed: segfile.FrameSeed(0, 0)})
	var slabOf []uint32
	for i := range 6000 {
		_, err := s.Add("k", payload(i), int64(i), 0)
		require.NoError(t, err)
		slabOf = append(slabOf, s.slabNext-1)
	}
	s.Publish()
	firstOf := func(n uint32) uint64 { return uint64(slices.Index(slabOf, n)) }
	require.Greater(t, s.slabNext, uint32(3))

	st.fail[1] = errors.New("gone")
	got, damage := readDamaged(t, &s, 0)
	require.Len(t, damage, 1)
	require.Equal(t, DamageError{From: firstOf(1), To: firstOf(2), Err: st.fail[1]}, *damage[0])
	require.Len(t, got, 6000-int(firstOf(2)-firstOf(1)))

	// Now the slab loads, with one frame garbled: that one record fails.
	delete(st.fail, 1)
	bad := firstOf(1) + 7
	s.mu.Lock()
	s.slabs.set(1, nil) // evict it, to be loaded again
	delete(s.unsure, 1)
	s.mu.Unlock()
	e := s.chunks.get(bad >> chunkShift)[bad&(chunkLen-1)]
	st.flipped[1] = int(e.off) + 2 // a data byte
	got, damage = readDamaged(t, &s, firstOf(1))
	require.Len(t, damage, 1)
	require.Equal(t, DamageError{From: bad, To: bad + 1, Err: ErrChecksum}, *damage[0])
	require.Len(t, got, 6000-int(firstOf(1))-1)

	// A segment restored from these slabs with records lost between them.
	var back Segment
	back.Init(Options{Storage: st, MaxSlab: 64 << 10, Cached: 1, Seed: segfile.FrameSeed(0, 0)})
	delete(st.flipped, 1)
	back.Restore(0, 0)
	for n := uint32(0); n < 2; n++ {
		f := segfile.Recover(st.slabs[n], segfile.HeaderSize, firstOf(n), true, segfile.FrameSeed(0, 0))
		require.Len(t, f.Runs, 1)
		back.RestoreSlab(n, uint32(f.Runs[0].Off), f.Runs[0].Entries)
	}
	back.RestoreLost(5, 77)
	back.SkipSlabs(9)
	for i := range 3 {
		pos, err := back.Add("k", payload(int(firstOf(2))+5+i), 100, 0)
		require.NoError(t, err)
		require.Equal(t, firstOf(2)+5+uint64(i), pos)
	}
	back.Publish()
	got, damage = readDamaged(t, &back, 0)
	require.Len(t, damage, 1)
	require.Equal(t, DamageError{From: firstOf(2), To: firstOf(2) + 5, Err: ErrLost}, *damage[0])
	require.Len(t, got, int(firstOf(2))+3)
	ms, ok := back.Millis(firstOf(2) + 1)
	require.True(t, ok)
	require.Equal(t, int64(77), ms)

	// Trimming into the lost records keeps the slab after them.
	back.TrimBefore(firstOf(2) + 2)
	got, damage = readDamaged(t, &back, 0)
	require.Len(t, damage, 1)
	require.Equal(t, firstOf(2)+2, damage[0].From)
	require.Len(t, got, 3)
}
