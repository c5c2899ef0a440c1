package segfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"
)

func TestFramesRoundTrip(t *testing.T) {
	b := make([]byte, 4096)
	PutHeader(b, Header{Stream: 3, Shard: 7, File: 2, First: 100, Created: 1234})
	h, err := ParseHeader(b)
	if err != nil || h != (Header{Stream: 3, Shard: 7, File: 2, First: 100, Created: 1234, Version: Version}) {
		t.Fatalf("header %+v %v", h, err)
	}
	off := HeaderSize
	long := string(bytes.Repeat([]byte("K"), 768)) // the longest key, with the highest generation
	for i, r := range []struct {
		key, data string
		gen       uint8
	}{{"k", "hello", 0}, {"", "", 0}, {long, "x", MaxGen}} {
		off += PutFrame(b[off:], 0, 100+uint64(i), int64(1000+i), r.key, []byte(r.data), r.gen)
	}
	var got []Entry
	var entries Entries
	end, n := Scan(b, HeaderSize, 100, 0, func(e Entry) { got, entries = append(got, e), entries.Append(e) })
	if n != 3 || end != off {
		t.Fatalf("scan: %d records to %d, want 3 to %d", n, end, off)
	}
	if k := got[0]; string(b[k.KeyOff:k.KeyOff+uint32(k.Key)]) != "k" || string(b[k.KeyOff+1:k.KeyOff+1+k.Data]) != "hello" || k.Millis != 1000 {
		t.Fatalf("first entry %+v", k)
	}
	if k := got[2]; k.Key != 768 || k.Gen != MaxGen || string(b[k.KeyOff+768:k.KeyOff+768+k.Data]) != "x" {
		t.Fatalf("third entry %+v", k)
	}
	if decoded := slices.Collect(entries.All()); !slices.Equal(decoded, got) || entries.End() != uint64(off) {
		t.Fatalf("entries %+v, want %+v; end %d, want %d", decoded, got, entries.End(), off)
	}
	// The wrong first position, a flipped bit: the scan stops there.
	if _, n := Scan(b, HeaderSize, 99, 0, func(Entry) {}); n != 0 {
		t.Fatal("out-of-sequence frame accepted")
	}
	b[HeaderSize+FrameHeader+3] ^= 1
	if _, n := Scan(b, HeaderSize, 100, 0, func(Entry) {}); n != 0 {
		t.Fatal("corrupt frame accepted")
	}
	b[HeaderSize+FrameHeader+3] ^= 1
	if walked := Walk(b[:off], HeaderSize, func(Entry) {}); walked != 3 {
		t.Fatalf("walk: %d", walked)
	}

	// The index records of a sealed file and of a deleted one.
	rec := IndexRecord{File: 2, First: 100, Count: 3, FramesEnd: uint64(off), FramesCRC: Checksum(b[HeaderSize:off]), Entries: entries}
	idx := AppendIndexRecord(nil, rec)
	idx = AppendIndexRecord(idx, IndexRecord{File: Dropped, First: 1})
	var back []IndexRecord
	good := ReadIndex(idx, func(r IndexRecord) { back = append(back, r) })
	if good != len(idx) {
		t.Fatalf("good records end at %d of %d", good, len(idx))
	}
	if IndexRecordSize(3) != len(AppendIndexRecord(nil, rec)) {
		t.Fatal("IndexRecordSize")
	}
	if len(back) != 2 || back[0].FramesCRC != rec.FramesCRC || !slices.Equal(slices.Collect(back[0].Entries.All()), got) || back[1].First != 1 {
		t.Fatalf("index %+v", back)
	}
	back = back[:0]
	good = ReadIndex(idx[:len(idx)-3], func(r IndexRecord) { back = append(back, r) })
	if len(back) != 1 || good != IndexRecordSize(3) {
		t.Fatalf("a torn last record: %d records read, end %d", len(back), good)
	}
}

// FuzzScan: Scan and Walk never panic, never read past b, and every entry
// they return lies inside b.
func FuzzScan(f *testing.F) {
	b := make([]byte, 256)
	PutHeader(b, Header{First: 5})
	n := PutFrame(b[HeaderSize:], 0, 5, 9, "key", []byte("data"), 0)
	f.Add(b[:HeaderSize+n], uint64(5))
	f.Add(bytes.Repeat([]byte{0xff}, 100), uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, first uint64) {
		check := func(e Entry) {
			if int(e.KeyOff)+int(e.Key)+int(e.Data) > len(b) {
				t.Fatalf("entry %+v past %d bytes", e, len(b))
			}
		}
		if end, _ := Scan(b, min(HeaderSize, len(b)), first, 0, check); end > len(b) {
			t.Fatalf("end %d past %d", end, len(b))
		}
		Walk(b, min(HeaderSize, len(b)), check)
		for _, known := range []bool{true, false} {
			f := Recover(b, min(HeaderSize, len(b)), first, known, 0)
			next := uint64(0)
			for i, r := range f.Runs {
				// Known, the first run starts at first, or later if the
				// first frames are damaged; never before it.
				if i > 0 && r.First <= next || known && i == 0 && r.First < first {
					t.Fatalf("run %d starts at %d after %d", i, r.First, next)
				}
				for e := range r.Entries.From(uint32(r.Off)) {
					check(e)
				}
				next = r.Next()
			}
			if f.End > len(b) || f.Rest > len(b) {
				t.Fatalf("end %d, rest %d past %d", f.End, f.Rest, len(b))
			}
		}
		_, _ = ParseHeader(b)
		ReadIndex(b, func(r IndexRecord) {
			if uint64(r.Entries.Len()) != r.Count {
				t.Fatalf("record %d: %d entries, count %d", r.File, r.Entries.Len(), r.Count)
			}
			for e := range r.Entries.All() {
				if uint64(e.KeyOff)+uint64(e.Key)+uint64(e.Data) > r.FramesEnd && r.File != Dropped {
					t.Fatalf("entry %+v past the frames' end %d", e, r.FramesEnd)
				}
			}
		})
	})
}

// TestEntriesRoundTrip: entries keep lengths and arrival times, negative
// and extreme ones included (clamped), and where each frame starts.
func TestEntriesRoundTrip(t *testing.T) {
	in := []Entry{
		{Data: 5, Key: 1, Millis: 1_800_000_000_000},
		{Data: 0, Key: 0, Millis: -1},
		{Data: 1 << 20, Key: 768, Gen: MaxGen, Millis: ClampMillis(math.MaxInt64)},
		{Data: 7, Key: 2, Millis: ClampMillis(math.MinInt64)},
	}
	var es Entries
	off := uint32(HeaderSize)
	for i := range in {
		in[i].KeyOff = off + FrameHeader
		off = in[i].KeyOff + uint32(in[i].Key) + in[i].Data
		es = es.Append(in[i])
	}
	if got := slices.Collect(es.All()); !slices.Equal(got, in) {
		t.Fatalf("got %+v\nwant %+v", got, in)
	}
	if es.End() != uint64(off) || es.Len() != 4 || es.Prefix(2).End() != uint64(in[2].KeyOff-FrameHeader) {
		t.Fatalf("End %d, want %d", es.End(), off)
	}
	if ClampMillis(math.MaxInt64) != 1<<47-1 || ClampMillis(-5) != -5 {
		t.Fatal("ClampMillis")
	}
}

// file returns an image of a segment file of n records at positions from
// first, with 100 zero bytes of unwritten space after them, and the
// offset of each frame.
func file(n int, first uint64) ([]byte, []int) {
	b := make([]byte, HeaderSize+n*60+100)
	PutHeader(b, Header{First: first})
	off := HeaderSize
	var offs []int
	for i := range n {
		offs = append(offs, off)
		off += PutFrame(b[off:], 0, first+uint64(i), int64(i), "key", bytes.Repeat([]byte{byte('a' + i%26)}, 10+i%20), 0)
	}
	return b[:off+100], offs
}

// positions lists the positions of every run's records.
func positions(f Found) []uint64 {
	var out []uint64
	for _, r := range f.Runs {
		for i := range r.Entries.Len() {
			out = append(out, r.First+uint64(i))
		}
	}
	return out
}

func span(from, to uint64) []uint64 {
	var out []uint64
	for p := from; p < to; p++ {
		out = append(out, p)
	}
	return out
}

// TestRecoverFindsEveryIntactFrame: damage in the middle of a file costs
// only the frames it hit, whether it hit their data, their lengths or the
// file's header; junk at the end is reported as such; unwritten space is not.
func TestRecoverFindsEveryIntactFrame(t *testing.T) {
	const n = 20
	clean, offs := file(n, 100)
	for _, tc := range []struct {
		name   string
		damage func(b []byte)
		known  bool
		want   []uint64
		rest   bool
	}{
		{"intact", func([]byte) {}, true, span(100, 120), false},
		{"a data byte", func(b []byte) { b[offs[5]+FrameHeader+4] ^= 1 }, true, append(span(100, 105), span(106, 120)...), false},
		{"a length field", func(b []byte) { b[offs[7]+5] ^= 0x40 }, true, append(span(100, 107), span(108, 120)...), false},
		{"two frames' worth of zeros", func(b []byte) { clear(b[offs[3]:offs[5]]) }, true, append(span(100, 103), span(105, 120)...), false},
		{"the last frame", func(b []byte) { b[offs[n-1]+FrameHeader+1] ^= 1 }, true, span(100, 119), true},
		{"the header, position unknown", func(b []byte) { b[20] ^= 1 }, false, span(100, 120), false},
		{"the header and the first frame", func(b []byte) { b[offs[0]+3] ^= 1 }, false, span(101, 120), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Clone(clean)
			tc.damage(b)
			f := Recover(b, HeaderSize, 100, tc.known, 0)
			if got := positions(f); !slices.Equal(got, tc.want) {
				t.Fatalf("positions %v, want %v", got, tc.want)
			}
			if (f.Rest >= 0) != tc.rest {
				t.Fatalf("rest %d", f.Rest)
			}
			for _, r := range f.Runs {
				i := 0
				for e := range r.Entries.From(uint32(r.Off)) {
					if !CheckFrame(b, 0, e.KeyOff, e.Key, e.Gen, e.Data, r.First+uint64(i)) {
						t.Fatalf("run at %d: entry %d does not check", r.Off, i)
					}
					i++
				}
			}
			if last := f.Runs[len(f.Runs)-1]; last.End() != f.End {
				t.Fatalf("end %d, last run ends at %d", f.End, last.End())
			}
		})
	}
	if f := Recover(make([]byte, 4096), HeaderSize, 0, false, 0); len(f.Runs) != 0 || f.Rest >= 0 {
		t.Fatalf("unwritten file: %+v", f)
	}
}

// TestSyncMark: a header's mark is outside its checksum, checked on its
// own; version 2 headers have none, version 0 is refused.
func TestSyncMark(t *testing.T) {
	b := make([]byte, HeaderSize)
	PutHeader(b, Header{First: 7, File: 1})
	if m, ok := ParseMark(b); !ok || m != (Mark{Pos: 7}) {
		t.Fatalf("new file's mark %+v %v", m, ok)
	}
	PutMark(b, Mark{Off: 4096, Pos: 90})
	if _, err := ParseHeader(b); err != nil {
		t.Fatalf("header after a new mark: %v", err)
	}
	if m, ok := ParseMark(b); !ok || m != (Mark{Off: 4096, Pos: 90}) {
		t.Fatalf("mark %+v %v", m, ok)
	}
	b[markAt+2] ^= 1
	if _, ok := ParseMark(b); ok {
		t.Fatal("a torn mark accepted")
	}
	le := binary.LittleEndian
	le.PutUint32(b[8:], 2)
	le.PutUint32(b[60:], Checksum(b[:60]))
	if _, err := ParseHeader(b); err != nil {
		t.Fatalf("version 2: %v", err)
	}
	if _, ok := ParseMark(b); ok {
		t.Fatal("a version 2 header has no mark")
	}
	le.PutUint32(b[8:], 0)
	le.PutUint32(b[60:], Checksum(b[:60]))
	if _, err := ParseHeader(b); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("version 0: %v", err)
	}
}

// TestFramesOfAnotherShardDoNotCheck: a frame is checksummed from its
// shard's seed: copied into another shard's file, it is not intact there.
func TestFramesOfAnotherShardDoNotCheck(t *testing.T) {
	mine, theirs := FrameSeed(1, 0), FrameSeed(1, 1)
	b := make([]byte, 200)
	n := PutFrame(b[HeaderSize:], theirs, 5, 9, "k", []byte("data"), 0)
	if _, got := Scan(b[:HeaderSize+n], HeaderSize, 5, theirs, func(Entry) {}); got != 1 {
		t.Fatal("its own shard's frame")
	}
	if _, got := Scan(b[:HeaderSize+n], HeaderSize, 5, mine, func(Entry) {}); got != 0 {
		t.Fatal("another shard's frame accepted")
	}
	if f := Recover(b, HeaderSize, 0, false, mine); len(f.Runs) != 0 {
		t.Fatal("another shard's frame found")
	}
	if !CheckFrame(b, theirs, HeaderSize+FrameHeader, 1, 0, 4, 5) || CheckFrame(b, mine, HeaderSize+FrameHeader, 1, 0, 4, 5) {
		t.Fatal("CheckFrame")
	}
	h := Header{Stream: 1, Shard: 1, Size: 1 << 20}
	PutHeader(b, h)
	got, err := ParseHeader(b)
	if err != nil || got.Seed() != theirs || got.Size != 1<<20 {
		t.Fatalf("%+v %v", got, err)
	}
	if SeedOf(make([]byte, HeaderSize), mine) != mine {
		t.Fatal("SeedOf a garbled header")
	}
}
