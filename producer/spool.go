package producer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/shardlog/shardlog"
)

// A spool makes Put durable before it returns: each record is appended to
// a one-shard durable shardlog stream in Config.SpoolDir (SyncAlways: it is
// on stable storage), and a forwarder reads the spool in order and feeds
// the records to the batching loop. The position up to which every record
// is done (stored at the destination, or refused for good) is kept in the
// file FORWARDED, replaced atomically; after a crash or a restart the
// forwarder resumes after it, so a record may be sent twice but none
// acknowledged is lost. Records forwarded are dropped from the spool by a
// size bound of twice SpoolMaxBytes, which never reaches the ones not yet
// forwarded (at most SpoolMaxBytes, the newest).
//
// A spooled record's data starts with the 8-byte ID of its Put, so that
// the forwarder finds the Result waiting for it; records spooled by an
// earlier process have none.

const (
	spoolStream     = "spool"
	forwardedFile   = "FORWARDED"
	idBytes         = 8
	checkpointEvery = 256 // records done between two writes of FORWARDED
)

// ErrSpoolFull is Put's answer, with Config.FailWhenFull, when the spool
// holds SpoolMaxBytes of records not yet forwarded.
var ErrSpoolFull = errors.New("producer: spool full")

type spool struct {
	dir  string
	log  *slog.Logger
	acct *shardlog.Account
	s    *shardlog.Stream
	from shardlog.Position // where forwarding resumes; nil: from the oldest record

	idBase uint64

	mu      sync.Mutex
	ids     uint64
	waiting map[uint64]*Result                 // Puts of this process, by ID, until forwarded
	pending int                                // records spooled and not done
	bytes   int64                              // their bytes
	room    chan struct{}                      // closed when records are done
	done    map[uint64]shardlog.SequenceNumber // done past the checkpoint, by counter
	next    uint64                             // the counter after the checkpoint
	last    shardlog.SequenceNumber            // the checkpoint
	dirty   int                                // records done since it was saved
}

// openSpool opens (or creates) the spool in dir.
func openSpool(dir string, cfg Config) (*spool, error) {
	acct, err := shardlog.NewAccount(shardlog.WithDir(dir), shardlog.WithoutLimits(), shardlog.WithClock(cfg.Clock),
		shardlog.WithLogger(cfg.Logger), shardlog.WithAccountSizeBound(shardlog.SizeBound{Bytes: 2 * cfg.SpoolMaxBytes}))
	if err != nil {
		return nil, fmt.Errorf("producer: opening the spool: %w", err)
	}
	sp := &spool{dir: dir, log: cfg.Logger, acct: acct, idBase: rand.Uint64() &^ 0xffffffff, waiting: map[uint64]*Result{},
		room: make(chan struct{}), done: map[uint64]shardlog.SequenceNumber{}, next: 1}
	sp.s, err = acct.Stream(shardlog.StreamRef{StreamName: spoolStream})
	if errors.Is(err, shardlog.ErrResourceNotFound) {
		sp.s, err = acct.CreateStream(context.Background(), shardlog.CreateStreamInput{StreamName: spoolStream, ShardCount: 1})
	}
	if err != nil {
		acct.Close()
		return nil, fmt.Errorf("producer: opening the spool: %w", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, forwardedFile)); err == nil {
		seq, err := shardlog.ParseSequenceNumber(strings.TrimSpace(string(b)))
		if err != nil {
			acct.Close()
			return nil, fmt.Errorf("producer: the spool's %s is damaged: %w", forwardedFile, err)
		}
		sp.from, sp.last, sp.next = shardlog.Position{seq.ShardID(): seq}, seq, seq.Counter()+1
	} else if !errors.Is(err, os.ErrNotExist) {
		acct.Close()
		return nil, err
	}
	// What an earlier process spooled and did not forward counts against
	// the bound, and Flush waits for it.
	for rec, err := range sp.s.ReadAllFrom(context.Background(), sp.from) {
		var lost *shardlog.LostRecordsError
		if errors.As(err, &lost) {
			continue
		}
		if err != nil {
			acct.Close()
			return nil, fmt.Errorf("producer: reading the spool: %w", err)
		}
		sp.pending++
		sp.bytes += int64(len(rec.PartitionKey) + max(len(rec.Data)-idBytes, 0))
	}
	return sp, nil
}

// append spools a record for a Put whose Result is res, once there is room.
func (sp *spool) append(ctx context.Context, rec Record, size int, res *Result, max int64, fail bool) error {
	for {
		sp.mu.Lock()
		if sp.bytes == 0 || sp.bytes+int64(size) <= max {
			sp.bytes += int64(size)
			sp.pending++
			sp.ids++
			id := sp.idBase | sp.ids
			sp.waiting[id] = res
			sp.mu.Unlock()
			data := binary.LittleEndian.AppendUint64(make([]byte, 0, idBytes+len(rec.Data)), id)
			_, err := sp.s.Put(ctx, shardlog.PutInput{PartitionKey: rec.PartitionKey, ExplicitHashKey: rec.ExplicitHashKey, Data: append(data, rec.Data...)})
			if err != nil {
				sp.mu.Lock()
				delete(sp.waiting, id)
				sp.bytes -= int64(size)
				sp.pending--
				sp.signalLocked()
				sp.mu.Unlock()
			}
			return err
		}
		room := sp.room
		sp.mu.Unlock()
		if fail {
			return ErrSpoolFull
		}
		select {
		case <-room:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// forward feeds the spool's records to the producer, in order, until ctx
// ends.
func (sp *spool) forward(ctx context.Context, p *Producer) {
	for rec, err := range sp.s.TailAllFrom(ctx, sp.from) {
		if err != nil {
			var lost *shardlog.LostRecordsError
			if errors.As(err, &lost) {
				continue // dropped by the size bound: forwarded already
			}
			if ctx.Err() == nil {
				p.cfg.Logger.Error("producer: reading the spool failed; records after it wait for a restart", "err", err)
			}
			return
		}
		if len(rec.Data) < idBytes {
			continue
		}
		id := binary.LittleEndian.Uint64(rec.Data)
		sp.mu.Lock()
		res, ours := sp.waiting[id]
		delete(sp.waiting, id)
		sp.mu.Unlock()
		r := &record{Record: Record{PartitionKey: rec.PartitionKey, Data: rec.Data[idBytes:]}, spooled: rec.SequenceNumber}
		if res == nil {
			res = newResult()
		}
		r.res = res
		if err := r.check(len(r.Data)); err != nil {
			// Put checks what it spools: a record that does not check is
			// damage in the spool. It fails its Result and is passed over.
			sp.forwarded(r)
			r.res.Err = err
			r.res.finish()
			continue
		}
		if err := p.enqueue(ctx, r); err != nil {
			if ours { // stopping: Close ends it, with its reason (see abandon)
				sp.mu.Lock()
				sp.waiting[id] = res
				sp.mu.Unlock()
			}
			return
		}
	}
}

// forwarded notes that a spooled record is done (stored, or refused for
// good) and moves the checkpoint over every record done before it.
func (sp *spool) forwarded(r *record) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.bytes -= int64(r.size)
	sp.pending--
	sp.signalLocked()
	sp.done[r.spooled.Counter()] = r.spooled
	for {
		seq, ok := sp.done[sp.next]
		if !ok {
			break
		}
		delete(sp.done, sp.next)
		sp.next++
		sp.last = seq
		sp.dirty++
	}
	if sp.dirty >= checkpointEvery {
		sp.saveLocked()
	}
}

// signalLocked wakes those waiting for room or for the spool to empty.
func (sp *spool) signalLocked() {
	close(sp.room)
	sp.room = make(chan struct{})
}

// drained waits until every record spooled is done, or ctx ends.
func (sp *spool) drained(ctx context.Context) error {
	for {
		sp.mu.Lock()
		if sp.pending <= 0 {
			sp.mu.Unlock()
			return nil
		}
		room := sp.room
		sp.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// saveLocked writes FORWARDED: the sequence number of the last record of
// the done prefix, durably.
func (sp *spool) saveLocked() {
	if sp.last.IsZero() || sp.dirty == 0 {
		return
	}
	sp.dirty = 0
	if err := writeFileAtomic(filepath.Join(sp.dir, forwardedFile), []byte(sp.last.String()+"\n")); err != nil {
		sp.log.Warn("producer: could not save the spool's position; a restart sends some records again", "err", err)
	}
}

// abandon ends the Results of records this process spooled and did not
// forward: they stay spooled, for the next producer on the directory.
func (sp *spool) abandon(why error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for id, res := range sp.waiting {
		delete(sp.waiting, id)
		res.Err = why
		res.finish()
	}
}

// close saves the position and closes the spool's account.
func (sp *spool) close() error {
	sp.mu.Lock()
	sp.saveLocked()
	sp.mu.Unlock()
	return sp.acct.Close()
}

// writeFileAtomic replaces name with b: written, synced, renamed, and the
// directory synced.
func writeFileAtomic(name string, b []byte) error {
	tmp := name + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(name))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
