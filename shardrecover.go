package shardlog

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/shardlog/shardlog/internal/segfile"
	"github.com/shardlog/shardlog/internal/segment"
	"github.com/shardlog/shardlog/internal/seqnum"
)

// Opening a durable shard reads its files back: through the index where it
// has a record of a file, by scanning the file's frames where it has none
// (the file being written when the last run ended, and files finished since
// the index was last durable). What it finds wrong is of two kinds:
//
//   - A torn tail: bytes that are not records after the last intact record
//     of the shard's newest file, above the file's sync mark, with nothing
//     intact after them. A power cut leaves one, and what it cut was never
//     durable: the file is cut there. Reported in TornTails.
//   - Damage: everything else — a missing file, a file shorter than its
//     index record, a garbled header, frames that fail their checksums with
//     intact ones after them (in the same file or a later one) or below the
//     sync mark, records missing before the first file or after the last
//     one the shard is known to have held. Damaged records keep their
//     positions, so that the shard's end never moves back and no sequence
//     number is given twice; reading them fails with a
//     [*DamagedRecordsError]; no file holding an intact record is deleted.
//     Reported in Corrupt.

// recoveredFile is a segment file as opening found it.
type recoveredFile struct {
	n       uint32
	info    fileInfo      // first and count: every position it holds, damaged ones too
	runs    []segfile.Run // its intact records, in order; the positions between runs are damaged
	scanned bool          // read by a scan, not through the index
	clean   bool          // scanned, and one run from its header: indexed now
	rest    int           // where bytes that are not records start after its last record; -1: none
	image   []byte        // its header garbled: its bytes, until placeGuessed scans them
	guessed bool          // its header garbled, where its records start is a guess: never deleted for it
}

func (rf *recoveredFile) end() uint64 { return rf.info.first + rf.info.count }

// whole reports whether opening found nothing wrong with the file: its
// header read, its records intact from its first position on.
func (rf *recoveredFile) whole() bool {
	return !rf.guessed && rf.info.lost == nil && !rf.info.unsure && (len(rf.runs) == 0 || rf.runs[0].First == rf.info.first)
}

// intact returns how many of its records are readable.
func (rf *recoveredFile) intact() uint64 {
	var n uint64
	for _, r := range rf.runs {
		n += uint64(r.Entries.Len())
	}
	return n
}

// shardState is what the manifest says of a shard, for opening its files.
type shardState struct {
	head   uint64 // its first live position
	next   uint64 // the position after the newest record known durable
	millis int64  // when it was created: the date of records lost with every file
	closed bool   // it is closed: with no file, its records all expired
}

// recover opens the shard's files, named (without the shard's prefix) in
// names, and restores seg from them, adding what it finds wrong to rep. See
// the comment at the top of this file.
func (sf *shardFiles) recover(seg *segment.Segment, ms shardState, names []string, rep *RecoveryReport) error {
	if len(names) == 0 && ms.closed {
		ms.next = ms.head // expired, and its files deleted
	}
	sf.removed = map[uint32]dropReason{} // what opening deletes, as it goes
	sf.blank = map[uint32]bool{}         // files with no header and no record
	defer func() { sf.removed, sf.blank = nil, nil }()
	idx, dropped, err := sf.openIndexAt(names)
	if err != nil {
		return err
	}
	files, top, err := sf.recoverFiles(names, idx, dropped, ms.head, rep)
	if err != nil {
		return err
	}
	kept, err := sf.chain(files, ms.head, ms.next, dropped, rep)
	if err != nil {
		return err
	}

	// New files are numbered after every number ever used: the index may
	// still hold records of deleted files, which a reused number would
	// seem to match.
	for n := range idx {
		top = max(top, n+1)
	}
	top = max(top, dropped.top)
	for n := range sf.removed {
		top = max(top, n+1)
	}
	// The shard's records end after every record it is known to have held:
	// its files, their index records, what the manifest last recorded.
	end := ms.next
	for n, r := range idx {
		if !dropped.has(n) && sf.removed[n] == 0 {
			end = max(end, r.info.first+r.info.count)
		}
	}

	lastN, lastEnd := -1, ms.head
	if k := len(kept); k > 0 {
		lastN, lastEnd = int(kept[k-1].n), kept[k-1].end()
	}
	madeAhead, err := sf.blanks(kept, ms.head, rep)
	if err != nil {
		return err
	}
	// A file made ahead of need follows the file it was made for: numbers
	// between the last file kept and it with no file at all were there,
	// and are gone. How many records they held is unknown, no more than a
	// file holds each; their positions are not given again.
	present := namesOf(files)
	var missing []uint32
	for n := uint32(lastN + 1); n < madeAhead; n++ {
		if _, blank := sf.blank[n]; !blank && !slices.Contains(present, n) && !dropped.has(n) && sf.removed[n] == 0 {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		upTo := lastEnd + uint64(len(missing))*uint64(sf.st.segmentSize/segfile.FrameHeader)
		sf.damage(rep, sf.fileName(missing[0]), lastEnd, upTo, "missing: the shard's newest %d files, with up to %d records", len(missing), upTo-lastEnd)
		end = max(end, upTo)
	}
	first, slab := ms.head, top
	if len(kept) > 0 {
		slab = kept[0].n
		switch f := kept[0].info.first; {
		case f <= ms.head:
			first = f
		case kept[0].n > 0 && sf.allDropped(0, kept[0].n, dropped):
			first = f // the files before it were deleted on purpose
		default:
			sf.damage(rep, sf.fileName(kept[0].n), ms.head, f, "missing: no file holds the records before %d", f)
		}
	}
	if len(kept) == 0 && end > ms.head {
		if top > 0 && sf.allDropped(0, top, dropped) {
			first = end // every file was deleted on purpose: the records expired
		} else {
			sf.damage(rep, sf.dir, ms.head, end, "missing: the shard has no file with its records")
		}
	}
	seg.Restore(first, slab)
	r := restorer{seg: seg, pos: first, millis: ms.millis}
	for _, rf := range kept {
		r.file(&rf)
		sf.noteFile(rf.n, rf.info)
		rep.Files++
		rep.Records += int64(rf.intact())
	}
	if last := r.pos; end > last {
		if len(kept) > 0 {
			sf.damage(rep, sf.fileName(kept[len(kept)-1].n), last, end, "missing: the records after %d are in no file", last-1)
		}
		r.lost(end)
	}
	if err := sf.indexScanned(kept, ms.next); err != nil {
		return err
	}
	// Files after the last kept one (all cut away) and before the first (a
	// gap) are no longer part of the shard; the next file number follows
	// every file there is, so that none is overwritten.
	seg.SkipSlabs(top)
	seg.TrimRestored(ms.head)
	if sf.st.readOnly {
		return nil
	}
	sf.maybeCompactIndex()
	return sf.unlinkDoomed()
}

// unlinkDoomed deletes the files opening dropped, once the index that
// records their deletion is durable: the directory is the stream's, which
// any shard may sync at any time, making the deletion durable too.
func (sf *shardFiles) unlinkDoomed() error {
	if len(sf.doomed) == 0 {
		return nil
	}
	if err := sf.syncIndex(); err != nil {
		return err
	}
	for _, n := range sf.doomed {
		if err := sf.unlink(n); err != nil {
			return err
		}
	}
	sf.doomed = nil
	return sf.st.fs.SyncDir(sf.dir)
}

// namesOf returns the numbers of files.
func namesOf(files []recoveredFile) []uint32 {
	out := make([]uint32, len(files))
	for i, rf := range files {
		out[i] = rf.n
	}
	return out
}

// restorer appends files' records to a segment being restored, and lost
// records where positions are missing.
type restorer struct {
	seg    *segment.Segment
	pos    uint64 // the next position
	millis int64  // the arrival time of the last record restored
	any    bool   // a record was restored
}

// file restores rf's records: its runs, and lost records for the
// positions before, between and after them.
func (r *restorer) file(rf *recoveredFile) {
	for _, run := range rf.runs {
		if run.Entries.Len() == 0 {
			continue
		}
		if !r.any { // lost records before the first one are dated as it is
			for e := range run.Entries.All() {
				r.millis = e.Millis
				break
			}
		}
		r.lost(run.First)
		r.seg.RestoreSlab(rf.n, uint32(run.Off), run.Entries)
		r.any = true
		for e := range run.Entries.All() {
			r.millis = e.Millis
		}
		r.pos = run.Next()
	}
	r.lost(rf.end())
}

// lost restores the positions up to to as lost records.
func (r *restorer) lost(to uint64) {
	if to > r.pos {
		r.seg.RestoreLost(to-r.pos, r.millis)
		r.pos = to
	}
}

// damage reports the records [from, to) of the shard as damaged, found in
// file (or the shard's directory).
func (sf *shardFiles) damage(rep *RecoveryReport, file string, from, to uint64, format string, args ...any) {
	c := Corruption{Stream: sf.stream, ShardID: shardID(sf.hdr.Shard), File: file, Err: fmt.Sprintf(format, args...)}
	if to > from {
		c.Records = to - from
		c.First = SequenceNumber{n: seqnum.Number{Stream: sf.hdr.Stream, Shard: sf.hdr.Shard, Counter: from + 1}}
		c.Last = SequenceNumber{n: seqnum.Number{Stream: sf.hdr.Stream, Shard: sf.hdr.Shard, Counter: to}}
	}
	rep.Corrupt = append(rep.Corrupt, c)
	sf.st.log.Error("shardlog: damaged records", "stream", sf.stream, "shard", c.ShardID, "file", file, "records", c.Records, "err", c.Err)
}

// openIndexAt reads the index, if there is one: the latest good record of
// each file and the files deleted on purpose. A torn end is cut off (a
// crash tore the last record written), so that records appended after it
// are read.
func (sf *shardFiles) openIndexAt(names []string) (map[uint32]indexRecord, *droppedFiles, error) {
	fs := sf.st.fs
	idx, dropped := map[uint32]indexRecord{}, &droppedFiles{}
	if slices.Contains(names, "index") {
		b, err := readFile(fs, sf.path("index"))
		if err != nil {
			return nil, nil, err
		}
		var end int
		idx, dropped, end = readIndex(b)
		if end < len(b) && !sf.st.readOnly {
			if err := sf.openIndex(int64(end)); err != nil {
				return nil, nil, err
			}
			sf.st.log.Warn("shardlog: cut a torn segment index", "file", sf.path("index"), "offset", end)
		}
	}
	if slices.Contains(names, "index.tmp") && !sf.st.readOnly { // a compaction the last run did not finish
		if err := fs.Remove(sf.path("index.tmp")); err != nil {
			return nil, nil, err
		}
	}
	return idx, dropped, nil
}

// recoverFiles reads every segment file there is, and those the index
// knows that are missing, in file order. top is above the number of every
// file seen but those with no header and no record.
func (sf *shardFiles) recoverFiles(names []string, idx map[uint32]indexRecord, dropped *droppedFiles, head uint64, rep *RecoveryReport) (files []recoveredFile, top uint32, err error) {
	seen := map[uint32]bool{}
	for _, name := range names {
		num, ok := strings.CutSuffix(name, ".seg")
		if !ok {
			continue
		}
		n64, err := strconv.ParseUint(num, 10, 32)
		if err != nil || sf.fileName(uint32(n64)) != sf.path(name) {
			// Not a name the shard gives ("1.seg" is not file 1's): a
			// stray file, left alone rather than taken for one of its own.
			sf.st.log.Warn("shardlog: ignored a file that is not the shard's", "file", sf.path(name))
			continue
		}
		n := uint32(n64)
		seen[n] = true
		if dropped.has(n) {
			// Deleted on purpose, though a power cut kept its name.
			if err := sf.remove(n, dropped.why(n)); err != nil {
				return nil, 0, err
			}
			continue
		}
		rf, err := sf.recoverFile(n, idx, rep)
		if err == nil || err == errUnwritten {
			// Its number counts once it holds a record (see blanks).
		} else {
			top = max(top, n+1)
		}
		switch {
		case err == errUnwritten:
			continue
		case errors.Is(err, segfile.ErrNewer):
			return nil, 0, fmt.Errorf("%s: %w", sf.fileName(n), err)
		case errors.Is(err, errForeign):
			// Not this shard's: kept as it is, its number never reused.
			sf.damage(rep, sf.fileName(n), 0, 0, "%v", err)
			continue
		case err != nil:
			// Unreadable: lost, unless the index knows what it held.
			seen[n] = false
			sf.damage(rep, sf.fileName(n), 0, 0, "unreadable: %v", err)
			continue
		}
		files = append(files, rf)
	}
	for n, r := range idx {
		if seen[n] || dropped.has(n) || r.info.first+r.info.count <= head {
			continue
		}
		// Finished, and gone: its index record says what it held.
		rf := recoveredFile{n: n, info: r.info, runs: []segfile.Run{{Off: segfile.HeaderSize, First: r.info.first, Entries: r.entries}}, rest: -1}
		if _, there := seen[n]; !there {
			rf.info.lost = fmt.Errorf("%s is missing", sf.fileName(n))
			sf.damage(rep, sf.fileName(n), r.info.first, rf.end(), "missing")
		} else {
			rf.info.lost = fmt.Errorf("%s is unreadable", sf.fileName(n))
			sf.damage(rep, sf.fileName(n), r.info.first, rf.end(), "unreadable")
		}
		files = append(files, rf)
	}
	slices.SortFunc(files, func(a, b recoveredFile) int { return int(int64(a.n) - int64(b.n)) })
	if files, err = sf.placeGuessed(files, head, rep); err != nil {
		return nil, 0, err
	}
	for _, rf := range files {
		top = max(top, rf.n+1)
	}
	return files, top, nil
}

// errUnwritten is a segment file that a crash left with no header and no
// record: it holds nothing that was acknowledged.
var errUnwritten = errors.New("shardlog: segment file never written")

// errForeign is a segment file whose intact header names another file.
var errForeign = errors.New("the header names another file")

// recoverFile opens file n: through its index record if it has one that
// fits, otherwise by scanning its frames.
func (sf *shardFiles) recoverFile(n uint32, idx map[uint32]indexRecord, rep *RecoveryReport) (recoveredFile, error) {
	name := sf.fileName(n)
	f, err := sf.st.fs.Open(name)
	if err != nil {
		return recoveredFile{}, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return recoveredFile{}, err
	}
	hb := make([]byte, segfile.HeaderSize)
	_, rerr := f.ReadAt(hb, 0)
	h, herr := segfile.ParseHeader(hb)
	if herr == nil && rerr != nil {
		herr = rerr
	}
	if errors.Is(herr, segfile.ErrNewer) {
		return recoveredFile{}, herr
	}
	if herr == nil && (h.File != n || h.Stream != sf.hdr.Stream || h.Shard != sf.hdr.Shard) {
		return recoveredFile{}, fmt.Errorf("%w: stream %d, shard %d, file %d", errForeign, h.Stream, h.Shard, h.File)
	}
	r, indexed := idx[n]
	if indexed && (herr != nil || r.info.first == h.First) {
		rf := recoveredFile{n: n, info: r.info, runs: []segfile.Run{{Off: segfile.HeaderSize, First: r.info.first, Entries: r.entries}}, rest: -1}
		if herr == nil && r.info.framesEnd <= size {
			return rf, nil
		}
		// Finished, and damaged: its index record still says what it held.
		// Its records are checked one by one when read back.
		rf.info.unsure = true
		if herr != nil {
			sf.damage(rep, name, 0, 0, "header damaged (%v): its records are checked one by one", herr)
		}
		if r.info.framesEnd > size {
			from := r.info.first
			for e := range r.entries.All() {
				if int64(e.KeyOff)+int64(e.Key)+int64(e.Data) > size {
					break
				}
				from++
			}
			sf.damage(rep, name, from, rf.end(), "%d bytes long, its records end at %d", size, r.info.framesEnd)
		}
		return rf, nil
	}
	if indexed {
		sf.damage(rep, name, 0, 0, "its header says it starts at %d, its index record at %d: scanned", h.First, r.info.first)
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF {
		return recoveredFile{}, err
	}
	if herr != nil {
		// Where its records start is for the file before it to say (see
		// placeGuessed): read now, scanned then.
		return recoveredFile{n: n, image: b}, nil
	}
	return sf.scan(n, b, h, true, 0, false, rep)
}

// placeGuessed scans the files whose header is garbled (files, in number
// order): from where the file before ended, if it is the one before, so
// that frames that do not belong there (a stretch of another file) are not
// taken for its first; else from the first intact frame.
func (sf *shardFiles) placeGuessed(files []recoveredFile, head uint64, rep *RecoveryReport) ([]recoveredFile, error) {
	out := files[:0]
	for i, rf := range files {
		if rf.image == nil {
			out = append(out, rf)
			continue
		}
		at, placed := head, rf.n == 0
		if k := len(out); k > 0 && out[k-1].n+1 == rf.n {
			at, placed = out[k-1].end(), true
		}
		got, err := sf.scan(rf.n, rf.image, segfile.Header{}, false, at, placed, rep)
		switch {
		case err == errUnwritten:
			continue
		case err != nil:
			return nil, err
		}
		files[i].image = nil
		out = append(out, got)
	}
	return out, nil
}

// scan reads file n's records from its bytes b. With its header (known),
// they start where the header says; without, at at if placed, or at its
// first intact frame.
func (sf *shardFiles) scan(n uint32, b []byte, h segfile.Header, known bool, at uint64, placed bool, rep *RecoveryReport) (recoveredFile, error) {
	name := sf.fileName(n)
	var found segfile.Found
	first := h.First
	if known {
		found = segfile.Recover(b, segfile.HeaderSize, h.First, true, h.Seed())
	} else { // a file of this format, or an older one
		for _, seed := range []uint32{segfile.FrameSeed(sf.hdr.Stream, sf.hdr.Shard), 0} {
			if placed {
				if found, first = segfile.Recover(b, segfile.HeaderSize, at, true, seed), at; len(found.Runs) > 0 {
					break
				}
			}
			if found = segfile.Recover(b, segfile.HeaderSize, 0, false, seed); len(found.Runs) > 0 {
				first, placed = found.Runs[0].First, false
				break
			}
		}
	}
	if len(found.Runs) == 0 && !known {
		// No header, and no record: made ahead of need and never written,
		// a header a crash tore, or damage. Which, the files after it tell
		// (see blanks).
		sf.blank[n] = !zeroBytes(b[:min(len(b), segfile.HeaderSize)]) || found.Rest >= 0
		return recoveredFile{}, errUnwritten
	}
	rf := recoveredFile{n: n, runs: found.Runs, scanned: true, rest: found.Rest, guessed: !known && !placed}
	if !known {
		sf.damage(rep, name, 0, 0, "header damaged: its records were found by their frames")
	}
	end := first
	if k := len(found.Runs); k > 0 {
		end = found.Runs[k-1].Next()
	}
	if (known || placed) && len(found.Runs) > 0 && found.Runs[0].First > first {
		sf.damage(rep, name, first, found.Runs[0].First, "records fail their checksums")
	}
	for i := 1; i < len(found.Runs); i++ {
		sf.damage(rep, name, found.Runs[i-1].Next(), found.Runs[i].First, "records fail their checksums")
	}
	if mark, ok := segfile.ParseMark(b); ok && found.End < int(mark.Off) {
		// Below the sync mark: damage to durable records, not a torn write.
		rf.rest = -1
		sf.damage(rep, name, end, max(end, mark.Pos), "the records from byte %d, below the file's sync mark at %d, fail their checksums or are gone (any after the mark too)", found.End, mark.Off)
		end = max(end, mark.Pos)
	}
	if mark, ok := segfile.ParseMark(b); known && ok && mark.Off > 0 && int64(len(b)) < int64(h.Size) {
		// Shorter than it was made, after a sync made its size durable: no
		// crash does that. What the missing bytes held is lost, and its
		// positions are not given again.
		rf.rest = -1
		upTo := end + uint64(int(h.Size)-found.End)/segfile.FrameHeader
		sf.damage(rep, name, end, upTo, "cut short to %d bytes of %d: up to %d records after %d may be lost", len(b), h.Size, upTo-end, end)
		end = upTo
	}
	rf.info = fileInfo{first: first, count: end - first, framesEnd: int64(found.End)}
	rf.clean = known && len(found.Runs) == 1 && found.Runs[0].Off == segfile.HeaderSize && found.Runs[0].First == first && found.Runs[0].Next() == end
	if rf.clean || len(found.Runs) == 0 && end == first {
		rf.info.framesCRC = segfile.Checksum(b[segfile.HeaderSize:found.End])
	} else {
		rf.info.unsure = true
	}
	return rf, nil
}

// chain picks the files that make up the shard. A newer file holds the
// positions from its first on (after a failed sync, writing went on in a
// new file from an earlier position), so older ones are cut where it
// starts, or go if they start no earlier. Then, where positions do not run
// on from one file to the next, either the files before were trimmed (the
// gap's files were trimmed, or the next file starts below the head: a fault
// or a power cut kept them, and they go), or a failed sync discarded the
// gap's files and those after it, whose deletions a power cut lost (they
// go), or the records between are lost: damage, reported. Only the last file can end in a
// torn tail, and only after the records the manifest knew durable.
func (sf *shardFiles) chain(files []recoveredFile, head, durable uint64, dropped *droppedFiles, rep *RecoveryReport) ([]recoveredFile, error) {
	var kept []recoveredFile // newest first, then reversed
	limit := uint64(math.MaxUint64)
	for i := len(files) - 1; i >= 0; i-- {
		rf := files[i]
		if rf.info.first >= limit {
			if rf.info.lost == nil && !rf.guessed {
				// Rewritten by a newer file: not a remnant of a rollback
				// (the newer file is what came after, not what a gap
				// left), so not marked discarded.
				if err := sf.remove(rf.n, trimmed); err != nil {
					return nil, err
				}
			} else if rf.guessed {
				// Its header garbled, its frames where a newer file's are:
				// damage, kept as it is.
				sf.damage(rep, sf.fileName(rf.n), 0, 0, "its records do not fit before the next file's")
			}
			continue
		}
		if rf.end() > limit {
			cutRuns(&rf, limit)
		}
		kept = append(kept, rf)
		limit = rf.info.first
	}
	slices.Reverse(kept)
	for i := 1; i < len(kept); i++ {
		prev, next := kept[i-1], kept[i]
		end := prev.end()
		if next.info.first == end {
			continue
		}
		why := trimmed
		if next.info.first > head {
			why = sf.droppedAs(prev.n+1, next.n, dropped)
		}
		if why == discarded && slices.ContainsFunc(kept[i:], func(rf recoveredFile) bool { return !rf.whole() }) {
			why = 0 // damage may have made the gap: report it, delete nothing
		}
		switch why {
		case trimmed:
			for _, rf := range kept[:i] {
				if err := sf.remove(rf.n, trimmed); err != nil {
					return nil, err
				}
			}
			kept = kept[i:]
			i = 0
			continue
		case discarded:
			// A rollback discarded the files between, and those from next
			// on with them, though their deletions did not all become
			// durable (any file written after it starts where prev ends).
			for _, rf := range kept[i:] {
				if err := sf.remove(rf.n, discarded); err != nil {
					return nil, err
				}
			}
			kept = kept[:i]
			continue
		}
		sf.damage(rep, sf.fileName(next.n), end, next.info.first, "missing: no file holds the records before %d", next.info.first)
	}
	if k := len(kept); k > 0 && kept[k-1].rest >= 0 && kept[k-1].end() >= durable {
		// (Records the manifest knew durable are missing otherwise: damage,
		// reported with the shard's end.)
		last := &kept[k-1]
		name := sf.fileName(last.n)
		rep.TornTails = append(rep.TornTails, TornTail{Stream: sf.stream, ShardID: shardID(sf.hdr.Shard), File: name, Offset: last.info.framesEnd, Records: last.intact()})
		sf.st.log.Warn("shardlog: truncated a torn segment tail", "file", name, "offset", last.info.framesEnd, "records", last.intact())
	}
	return kept, nil
}

// cutRuns keeps only rf's positions below limit: a newer file rewrote the
// rest. Its records are checked one by one when read back.
func cutRuns(rf *recoveredFile, limit uint64) {
	var runs []segfile.Run
	for _, r := range rf.runs {
		if r.First >= limit {
			break
		}
		if r.Next() > limit {
			r.Entries = r.Entries.Prefix(int(limit - r.First))
		}
		runs = append(runs, r)
	}
	rf.runs = runs
	rf.info.count = limit - rf.info.first
	if k := len(runs); k > 0 {
		rf.info.framesEnd = int64(runs[k-1].End())
	}
	rf.info.unsure, rf.clean, rf.rest = true, false, -1
}

// indexScanned makes durable the files that opening scanned, and indexes
// the clean ones but small ones: what a scan found may be only in the page
// cache (written before a process crash, or by a sync that failed), and
// must be durable before anything is written after it, or a power cut
// could leave a gap before records acknowledged later. A file whose
// records end no later than the manifest's durable next (a clean Close
// wrote it) needs no sync; a small file is scanned again at little cost,
// so that a stream of many idle shards opens without writing.
func (sf *shardFiles) indexScanned(kept []recoveredFile, durable uint64) error {
	if sf.st.readOnly {
		return nil
	}
	synced := false
	for _, rf := range kept {
		if !rf.scanned || rf.end() <= durable && rf.info.framesEnd < spareMin {
			continue
		}
		if err := syncFile(sf.st.fs, sf.fileName(rf.n)); err != nil {
			return err
		}
		synced = true
		if rf.clean {
			if err := sf.appendIndex(indexRecordOf(rf.n, rf.info, rf.runs[0].Entries)); err != nil {
				return err
			}
		}
	}
	if synced || sf.indexDirty {
		sf.indexDirty = false
		if sf.index != nil {
			if err := sf.index.Sync(); err != nil {
				return err
			}
		}
		if err := sf.st.fs.SyncDir(sf.dir); err != nil {
			return err
		}
	}
	return nil
}

// blanks deals with the files that hold no header and no record: those
// after the last file kept were made ahead of need, or torn by a crash
// before anything in them was acknowledged: they go (reported if they hold
// anything). One before it where positions run on without a gap was given
// up (a failed sync rolled its records back, and a crash kept its name): it
// goes too; where there is a gap, it is damage, and is kept. It returns the
// number of the last one made ahead.
func (sf *shardFiles) blanks(kept []recoveredFile, head uint64, rep *RecoveryReport) (uint32, error) {
	lastN := -1
	if k := len(kept); k > 0 {
		lastN = int(kept[k-1].n)
	}
	ns := slices.Sorted(maps.Keys(sf.blank))
	madeAhead := uint32(0)
	for _, n := range ns {
		name := sf.fileName(n)
		if int(n) < lastN {
			i, _ := slices.BinarySearchFunc(kept, n, func(rf recoveredFile, n uint32) int { return cmp.Compare(rf.n, n) })
			before := head // kept[i] is the first kept file after it
			if i > 0 {
				before = kept[i-1].end()
			}
			if kept[i].info.first != before {
				sf.damage(rep, name, 0, 0, "no header and no record: unreadable")
				continue
			}
		}
		if int(n) > lastN && (sf.blank[n] || n != ns[len(ns)-1]) {
			// It holds something, or it was taken into use (another was
			// made ahead after it): a torn write, or the records of a torn
			// first sync; nothing readable either way.
			rep.TornTails = append(rep.TornTails, TornTail{Stream: sf.stream, ShardID: shardID(sf.hdr.Shard), File: name})
		}
		// Deleted, though not on purpose in the index's words: a deletion
		// record would say its positions were trimmed, and they were not.
		// Its number is the next file's (recover leaves blanks out of top),
		// so that numbers run on without a gap.
		if !sf.st.readOnly {
			if err := sf.unlink(n); err != nil {
				return 0, err
			}
		}
		if int(n) > lastN {
			madeAhead = n
		}
	}
	return madeAhead, nil
}

// allDropped reports whether every file numbered from..to-1 was deleted
// on purpose.
func (sf *shardFiles) allDropped(from, to uint32, dropped *droppedFiles) bool {
	return from >= to || sf.droppedAs(from, to, dropped) != 0
}

// droppedAs says why the files numbered from..to-1 were deleted: trimmed if
// any was, discarded if all were; 0 if there are none, or one was not
// deleted on purpose.
func (sf *shardFiles) droppedAs(from, to uint32, dropped *droppedFiles) dropReason {
	why := dropReason(0)
	for n := from; n < to; n++ {
		switch w := cmp.Or(dropped.why(n), sf.removed[n]); {
		case w == 0:
			return 0
		case w == trimmed || why == 0:
			why = w
		}
	}
	return why
}

// zeroBytes reports whether b holds only zeros.
func zeroBytes(b []byte) bool {
	return !slices.ContainsFunc(b, func(c byte) bool { return c != 0 })
}
