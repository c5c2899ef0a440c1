package agent

import (
	"bytes"
	"io"
	"os"
	"time"
)

// tracked is a file a flow tails: open, so that it can be drained after it
// is renamed or deleted.
type tracked struct {
	id       fileID
	path     string // where it was last seen
	f        *os.File
	consumed int64     // bytes turned into records (or skipped): the next record starts here
	read     int64     // bytes read: consumed, then the unfinished line or record
	partial  []byte    // bytes read after consumed
	header   int       // header lines still to skip
	skipping bool      // passing over the rest of a line cut at the largest record
	end      int64     // where its end was last found
	lastGrew time.Time // when its end last moved
	gone     bool      // no path of the flow's names it any more

	pending []pending // records sent, in file order; from head on, not yet acknowledged
	head    int
	acked   int64 // every record before this offset is acknowledged: the checkpoint
}

// pending is a record sent from a file, not yet acknowledged.
type pending struct {
	end  int64 // its file offset's end
	key  string
	data []byte
	res  result
}

// result is what a record's send comes to: a *producer.Result.
type result interface {
	Finished() bool
}

// partialWait is how long an unfinished last line waits for its newline
// (or a multi-line record for its next line) before it is sent as it is.
const partialWait = 5 * time.Second

// readChunk is how many bytes a poll reads from a file at a time, and
// readsPerPoll how many times at most: a file far behind is read over
// several polls, so that acknowledgements are noted (and memory let go)
// as it is.
const (
	readChunk    = 256 << 10
	readsPerPoll = 4
)

// records reads what t's file has after what was read, through buf (of
// readChunk bytes, reused: records copy what they keep), and passes emit
// the records it makes, each with its end offset: whole lines (or
// multi-line records), and what waited longer than partialWait. now dates
// growth. A record is consumed only once emit took it: an error of emit's
// (or of reading) ends the reading, and is returned.
func (t *tracked) records(fl *Flow, now time.Time, maxRecord int, buf []byte, emit func(data []byte, end int64) error) error {
	atEnd := false
	for range readsPerPoll {
		n, err := t.f.ReadAt(buf, t.read)
		if n > 0 {
			t.id.grow(t.read, buf[:n])
			t.read += int64(n)
			inBuf := len(t.partial) == 0
			if inBuf {
				t.partial = buf[:n:n] // split straight from the read buffer
			} else {
				t.partial = append(t.partial, buf[:n]...)
			}
			err := t.split(fl, maxRecord, false, emit)
			if inBuf && len(t.partial) > 0 {
				t.partial = bytes.Clone(t.partial) // buf is read into again
			}
			if err != nil {
				return err
			}
		}
		if err == io.EOF || n == 0 {
			atEnd = true
			break
		}
		if err != nil {
			return err
		}
	}
	if !atEnd {
		return nil // more to read at the next poll
	}
	if t.read != t.end { // the file grew since its end was last reached
		t.end, t.lastGrew = t.read, now
	}
	if len(t.partial) > 0 && (t.gone || now.Sub(t.lastGrew) >= partialWait) {
		return t.split(fl, maxRecord, true, emit)
	}
	return nil
}

// split cuts t.partial into records: at newlines, or, with a multi-line
// pattern, before each line that matches it. final sends what is left as
// a record of its own. A record longer than maxRecord is cut there and
// ends with the flow's terminator; the rest of its line is passed over.
func (t *tracked) split(fl *Flow, maxRecord int, final bool, emit func([]byte, int64) error) error {
	for len(t.partial) > 0 {
		if t.skipping {
			nl := bytes.IndexByte(t.partial, '\n')
			if nl < 0 {
				t.consume(int64(len(t.partial)))
				return nil
			}
			t.consume(int64(nl + 1))
			t.skipping = false
			continue
		}
		end := t.recordEnd(fl, final, maxRecord)
		if end < 0 {
			if len(t.partial) > maxRecord { // a line longer than any record: cut it now
				if err := t.send(fl, t.partial, int64(len(t.partial)), maxRecord, emit); err != nil {
					return err
				}
				t.skipping = true
				continue
			}
			return nil
		}
		if err := t.send(fl, t.partial[:end], int64(end), maxRecord, emit); err != nil {
			return err
		}
	}
	return nil
}

// consume passes over the first n bytes of t.partial.
func (t *tracked) consume(n int64) {
	t.consumed += n
	t.partial = t.partial[n:]
	if len(t.partial) == 0 {
		t.partial = nil // let the buffer go
	}
}

// send emits rec (the first n bytes of t.partial) unless it is a header
// line, and consumes it.
func (t *tracked) send(fl *Flow, rec []byte, n int64, maxRecord int, emit func([]byte, int64) error) error {
	if t.header > 0 {
		t.header--
	} else if len(rec) > 0 {
		if len(rec) > maxRecord {
			term := *fl.TruncatedRecordTerminator
			cut := max(0, maxRecord-len(term))
			rec = append(bytes.Clone(rec[:cut]), term...)
		} else {
			rec = bytes.Clone(rec)
		}
		if err := emit(rec, t.consumed+n); err != nil {
			return err
		}
	}
	t.consume(n)
	return nil
}

// recordEnd returns the end of the first whole record in t.partial, or -1
// if it has none yet; final takes what is there as whole. A line longer
// than maxRecord is judged by its start: whether it starts a multi-line
// record.
func (t *tracked) recordEnd(fl *Flow, final bool, maxRecord int) int {
	p := t.partial
	if len(p) == 0 {
		return -1
	}
	nl := bytes.IndexByte(p, '\n')
	if fl.multiLine == nil || t.header > 0 {
		switch {
		case nl >= 0:
			return nl + 1
		case final:
			return len(p)
		}
		return -1
	}
	// Multi-line: the record runs from its first line to the next line
	// that starts one.
	if nl < 0 {
		if final {
			return len(p)
		}
		return -1
	}
	for at := nl + 1; at < len(p); {
		next := bytes.IndexByte(p[at:], '\n')
		if next < 0 {
			switch {
			case (final || len(p) > maxRecord) && fl.multiLine.Match(p[at:]):
				return at
			case final:
				return len(p)
			}
			return -1 // the next line may yet start a record
		}
		if fl.multiLine.Match(p[at : at+next]) {
			return at
		}
		at += next + 1
	}
	if final {
		return len(p)
	}
	return -1
}
