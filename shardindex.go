package shardlog

import (
	"fmt"

	"github.com/shardlog/shardlog/internal/segfile"
)

// A shard's index only grows: every finished file adds its entries (12 bytes
// a record) and every deletion a record of its own. Once the records of
// deleted files outweigh those of the files still there, the index is
// rewritten with the living ones, and the deleted files as runs of numbers;
// so its size stays within about twice what the files there need, and
// rewriting costs each byte written at most once more.

// compactIndexMin is the least dead weight worth a rewrite (a variable so
// that the power-loss test can make rewrites frequent).
var compactIndexMin int64 = 1 << 20

// dropReason is why a file was deleted on purpose, as its deletion record
// says. Opening needs it where positions do not run on from one file to the
// next: trimmed records were acknowledged and are gone from the front of
// the shard, so the files before the gap are older still; discarded ones
// were never acknowledged (see chain).
type dropReason uint8

const (
	trimmed   dropReason = iota + 1 // its records expired, or went for a size bound
	discarded                       // its records were rolled back: a sync of them failed
)

// droppedFiles are the numbers of files deleted on purpose, as the index
// records them: single numbers, and runs that a compaction wrote.
type droppedFiles struct {
	one  map[uint32]dropReason
	runs [][2]uint32 // [from, to), trimmed
	top  uint32      // above every number here; 0 if none
}

func (d *droppedFiles) add(r segfile.IndexRecord) {
	from, to := uint32(r.First), uint32(r.First)+1
	if r.FramesEnd > r.First { // a run
		to = uint32(r.FramesEnd)
		d.runs = append(d.runs, [2]uint32{from, to})
	} else {
		if d.one == nil {
			d.one = map[uint32]dropReason{}
		}
		d.one[from] = trimmed
		if r.FramesCRC == discardedMark {
			d.one[from] = discarded
		}
	}
	d.top = max(d.top, to)
}

func (d *droppedFiles) has(n uint32) bool { return d.why(n) != 0 }

// why returns why file n was deleted; 0 if it was not.
func (d *droppedFiles) why(n uint32) dropReason {
	if why, ok := d.one[n]; ok {
		return why
	}
	for _, r := range d.runs {
		if r[0] <= n && n < r[1] {
			return trimmed
		}
	}
	return 0
}

// readIndex decodes the index file: the latest good record of each file,
// the files deleted on purpose, and where the good records end.
func readIndex(b []byte) (map[uint32]indexRecord, *droppedFiles, int) {
	out, dropped := map[uint32]indexRecord{}, &droppedFiles{}
	end := segfile.ReadIndex(b, func(r segfile.IndexRecord) {
		if r.File == segfile.Dropped {
			dropped.add(r)
			return
		}
		out[r.File] = indexRecord{
			info:    fileInfo{first: r.First, count: r.Count, framesEnd: int64(r.FramesEnd), framesCRC: r.FramesCRC},
			entries: r.Entries,
		}
	})
	return out, dropped, end
}

// maybeCompactIndex rewrites the index if the records of deleted files
// outweigh the others. Serialized with Add (the shard's lock).
func (sf *shardFiles) maybeCompactIndex() {
	sf.mu.Lock()
	var live int64
	for _, info := range sf.files {
		live += int64(segfile.IndexRecordSize(int(info.count)))
	}
	sf.mu.Unlock()
	sf.imu.Lock()
	defer sf.imu.Unlock()
	dead := sf.indexEnd - live
	if dead < compactIndexMin || dead < live || sf.index == nil {
		return
	}
	if err := sf.compactIndexLocked(); err != nil {
		// The index stays as it was: longer, and as good.
		sf.st.log.Warn("shardlog: could not compact a segment index", "dir", sf.dir, "err", err)
	}
}

// compactIndexLocked writes a new index beside the old one, syncs it and
// renames it over the old one: the records of the files still there, and
// the numbers of every other file below the newest of them as deleted.
// Numbers above it keep the deletion records they have. sf.imu is held.
func (sf *shardFiles) compactIndexLocked() error {
	fs := sf.st.fs
	name := sf.path("index")
	old := make([]byte, sf.indexEnd)
	if _, err := sf.index.ReadAt(old, 0); err != nil {
		return err
	}
	sf.mu.Lock()
	live := make(map[uint32]bool, len(sf.files))
	top := uint32(0) // above every file still there
	for n := range sf.files {
		live[n] = true
		top = max(top, n+1)
	}
	sf.mu.Unlock()

	var out []byte
	for n := uint32(0); n < top; {
		if live[n] {
			n++
			continue
		}
		m := n
		for m < top && !live[m] {
			m++
		}
		out = appendDropped(out, n, m, trimmed)
		n = m
	}
	end := segfile.ReadIndex(old, func(r segfile.IndexRecord) {
		switch {
		case r.File != segfile.Dropped:
			if live[r.File] {
				out = segfile.AppendIndexRecord(out, r)
			}
		case r.FramesEnd > r.First: // a run: keep what lies above top
			if uint32(r.FramesEnd) > top {
				out = appendDropped(out, max(uint32(r.First), top), uint32(r.FramesEnd), trimmed)
			}
		case uint32(r.First) >= top:
			out = segfile.AppendIndexRecord(out, r)
		}
	})
	if end != len(old) {
		return fmt.Errorf("%w: %s has a bad record at %d", segfile.ErrCorrupt, name, end)
	}

	tmp := name + ".tmp"
	f, err := fs.Create(tmp)
	if err != nil {
		return err
	}
	if _, err = f.WriteAt(out, 0); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = fs.Rename(tmp, name)
	}
	if err == nil {
		// Before anything is appended to the new index: appended to a
		// file whose name a power cut undid, a deletion would be lost.
		err = fs.SyncDir(sf.dir)
	}
	if err != nil {
		f.Close()
		_ = fs.Remove(tmp)
		return err
	}
	sf.index.Close()
	sf.index, sf.indexEnd, sf.indexDirty = f, int64(len(out)), false
	return nil
}

// discardedMark, in the checksum field of a deletion record (unused
// there), says that the file's records were discarded.
const discardedMark = 1

// appendDropped appends the record of the deleted files from..to-1. A
// discarded file's record is of one file.
func appendDropped(b []byte, from, to uint32, why dropReason) []byte {
	r := segfile.IndexRecord{File: segfile.Dropped, First: uint64(from)}
	if to > from+1 {
		r.FramesEnd = uint64(to)
	} else if why == discarded {
		r.FramesCRC = discardedMark
	}
	return segfile.AppendIndexRecord(b, r)
}
