package segfile

import "encoding/binary"

// Run is a stretch of intact frames of consecutive positions.
type Run struct {
	Off     int     // where its first frame starts
	First   uint64  // the position of its first record
	Entries Entries // one per record
}

// End returns the offset just past the run's last frame.
func (r Run) End() int {
	end := uint64(r.Off)
	for e := range r.Entries.From(uint32(r.Off)) {
		end = uint64(e.KeyOff) + uint64(e.Key) + uint64(e.Data)
	}
	return int(end)
}

// Next returns the position after the run's last record.
func (r Run) Next() uint64 { return r.First + uint64(r.Entries.Len()) }

// Found is what Recover read in a segment file.
type Found struct {
	// Runs are the intact frames, in order; between two runs lie frames
	// that are damaged (the positions from the end of one to the start of
	// the next).
	Runs []Run
	// End is the offset just past the last intact frame.
	End int
	// Rest is where bytes that are neither intact frames nor zeros
	// (unwritten space) start after the last intact frame, or -1 if there
	// are none: a torn write, or damage.
	Rest int
}

// Recover reads the frames of a segment file image b from off, checksummed
// from seed (see Header.Seed). If known,
// the first must hold position first; otherwise (its header is damaged)
// the first intact frame found, whatever its position, starts the first
// run. Past a frame that is damaged it looks for the next intact one of a
// later position, so that damage in the middle of a file costs only the
// records it hit: every intact frame is found, unless its own length
// fields were hit. A frame is intact if its checksum holds and its
// position is the next expected one.
func Recover(b []byte, off int, first uint64, known bool, seed uint32) Found {
	found := Found{End: off, Rest: -1}
	if !known {
		o, pos, ok := resync(b, off, 0, false, seed)
		if !ok {
			if !zeros(b[min(off, len(b)):]) {
				found.Rest = off
			}
			return found
		}
		off, first = o, pos
	}
	for {
		run := Run{Off: off, First: first}
		end, n := Scan(b, off, first, seed, func(e Entry) { run.Entries = run.Entries.Append(e) })
		if n > 0 {
			found.Runs = append(found.Runs, run)
			found.End = end
		}
		off, first = end, first+n
		if off >= len(b) || zeros(b[off:]) {
			return found
		}
		o, pos, ok := resync(b, off, first, true, seed)
		if !ok {
			found.Rest = off
			return found
		}
		off, first = o, pos
	}
}

// resync finds the first intact frame at an offset after off. If after,
// its position must follow first by at least one and at most as many
// records as the bytes skipped could hold.
func resync(b []byte, off int, first uint64, after bool, seed uint32) (at int, pos uint64, ok bool) {
	le := binary.LittleEndian
	o := off
	if after {
		o++ // the frame at off is the damaged one
	}
	for ; len(b)-o >= FrameHeader; o++ {
		h := b[o : o+FrameHeader]
		p := le.Uint64(h[10:])
		if after && (p <= first || p-first > uint64(o-off)/FrameHeader) {
			continue
		}
		key, _ := splitKey(le.Uint16(h[8:]))
		size := FrameSize(int(key), int(le.Uint32(h[4:])))
		if size > len(b)-o || size < FrameHeader {
			continue
		}
		if le.Uint32(h[0:]) == 0 && zeros(h) {
			continue
		}
		if le.Uint32(h[0:]) == frameSum(seed, b[o+4:o+size]) {
			return o, p, true
		}
	}
	return 0, 0, false
}

// zeros reports whether b holds only zero bytes.
func zeros(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
