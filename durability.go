package shardlog

import (
	"fmt"
	"runtime"
	"sync"
	"time"
)

// SyncPolicy says when the records a durable account acknowledges reach
// stable storage. See [WithSync].
type SyncPolicy struct {
	kind  syncPolicy
	every time.Duration
}

type syncPolicy int

const (
	syncMemory syncPolicy = iota // an in-memory account: nothing to sync
	syncAlways
	syncEvery
	syncNone
)

// Sync policies of a durable account ([WithDir]); docs/durability.md has a table of
// what each can lose.
var (
	// SyncAlways: Put and PutBatch return only once their records are on
	// stable storage, and readers see records only then. Writers that
	// arrive together share one sync (group commit). Nothing acknowledged is
	// lost on a process crash or a power loss. The default, because Kinesis
	// acknowledges only durable records.
	SyncAlways = SyncPolicy{kind: syncAlways}
	// SyncNone leaves writing back to the operating system (and to Close).
	// Nothing is lost on a process crash; a power loss loses what the
	// system had not written back.
	SyncNone = SyncPolicy{kind: syncNone}
)

// SyncEvery syncs in the background at most d apart (on the account's
// clock). Nothing is lost on a process crash; a power loss loses at most
// the last d. Readers see records before they are synced.
func SyncEvery(d time.Duration) SyncPolicy { return SyncPolicy{kind: syncEvery, every: d} }

// String names the policy as shardlogd's -sync flag does.
func (p SyncPolicy) String() string {
	switch p.kind {
	case syncAlways:
		return "always"
	case syncEvery:
		return p.every.String()
	case syncNone:
		return "none"
	}
	return "memory"
}

// MarshalText names the policy, as String does.
func (p SyncPolicy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a policy named as String names it: "always",
// "none", or a duration such as "100ms" for SyncEvery. With it a
// SyncPolicy is a flag (flag.TextVar) or a configuration field.
func (p *SyncPolicy) UnmarshalText(b []byte) error {
	switch s := string(b); s {
	case "always":
		*p = SyncAlways
	case "none":
		*p = SyncNone
	default:
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return fmt.Errorf("shardlog: sync policy %q is not always, none or a positive duration", s)
		}
		*p = SyncEvery(d)
	}
	return nil
}

// durability is a durable shard's progress to stable storage, and its
// group commit. Guarded by the shard's mu.
type durability struct {
	synced  uint64        // records below this position are durable
	syncing bool          // a sync is in flight (with mu released)
	round   chan struct{} // closed when the sync in flight ends
	epoch   uint64        // bumped by each failed sync
	fails   []syncFailure // the recent failed syncs, oldest first
	err     error         // what the last failure was
}

// syncFailure is a failed sync: from epoch on, the records at positions to
// and above were discarded (SyncAlways) or may not be durable.
type syncFailure struct{ epoch, to uint64 }

// keptFails bounds the failures remembered; a writer older than all of them
// is told its record failed, which a retry makes good.
const keptFails = 64

// awaitDurable waits until the record appended at pos, when the shard's
// failure epoch was epoch, is durable, running the sync itself if none is
// in flight; writers that arrive during a sync share the next one. It
// returns the sync's error if the record was discarded.
func (sh *shard) awaitDurable(pos, epoch uint64) error {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	d := &sh.durability
	for {
		if d.epoch != epoch {
			// A sync failed since the record was appended. It survived only
			// if an earlier sync had covered it.
			for _, f := range d.fails {
				if f.epoch == epoch+1 {
					if pos < f.to {
						return nil
					}
					break
				}
			}
			return d.err
		}
		if d.synced > pos {
			return nil
		}
		if d.syncing {
			round := d.round
			sh.mu.Unlock()
			<-round
			sh.mu.Lock()
			continue
		}
		sh.syncRoundLocked()
	}
}

// syncAll makes every record appended so far durable (or discards what
// cannot be, under SyncAlways). It returns the first failure.
func (sh *shard) syncAll() error {
	if sh.files == nil {
		return nil
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for {
		d := &sh.durability
		if d.synced >= sh.seg.Written() && !sh.files.dirtyLocked() {
			return nil
		}
		if d.syncing {
			round := d.round
			sh.mu.Unlock()
			<-round
			sh.mu.Lock()
			continue
		}
		if err := sh.syncRoundLocked(); err != nil {
			return err
		}
	}
}

// flushDeletions runs a sync if files wait for one to be deleted (see
// shardFiles.remove): under SyncAlways an idle shard has no write to run
// it, and its expired files would stay on disk.
func (sh *shard) flushDeletions() {
	if sh.files == nil {
		return
	}
	sh.mu.Lock()
	pending := len(sh.files.doomed) > 0
	sh.mu.Unlock()
	if pending {
		_ = sh.syncAll() // a failure is logged; the next sync tries again
	}
}

// syncRoundLocked syncs what the shard has written, with sh.mu released
// while the storage works, and publishes it under SyncAlways. A failure is
// never retried on the same file (after a failed fsync, Linux may have
// dropped the pages and report success next time): under SyncAlways the
// records not yet durable are discarded and their writers told; otherwise
// they stay (they were acknowledged) and the failure is logged. Either way
// the next record goes to a new file. sh.mu is held, and held again on
// return.
func (sh *shard) syncRoundLocked() error {
	d := &sh.durability
	d.syncing = true
	round := make(chan struct{})
	d.round = round
	// Writers woken by the last round are about to append again: let them,
	// so that this round takes them along rather than leaving them to the
	// next (BenchmarkDurablePut's parallel runs show the larger rounds).
	sh.mu.Unlock()
	runtime.Gosched()
	sh.mu.Lock()
	target := sh.seg.Written()
	job := sh.files.syncJobLocked(sh.seg.Used(), target)
	sh.mu.Unlock()
	err := job.run()
	sh.mu.Lock()
	sh.files.syncDoneLocked(job, err)
	if err == nil {
		d.synced = max(d.synced, target)
		if sh.sync == syncAlways {
			sh.publishLocked(target)
		}
	} else {
		err = sh.storageError(err)
		d.err = err
		d.epoch++
		d.fails = append(d.fails, syncFailure{epoch: d.epoch, to: d.synced})
		if len(d.fails) > keptFails {
			d.fails = d.fails[1:]
		}
		if sh.sync == syncAlways {
			n := sh.seg.Written() - d.synced
			freed := sh.seg.Rollback(d.synced)
			sh.count(-freed, -int64(n))
		} else {
			sh.seg.Roll()
			d.synced = target // acknowledged already; nothing more to do for them
		}
		sh.files.st.log.Error("shardlog: sync failed", "stream", sh.files.stream, "shard", sh.id, "err", err)
	}
	d.syncing = false
	d.round = nil
	close(round)
	return err
}

// startSyncer syncs every shard of a SyncEvery account at its interval,
// on the account's clock, until Close.
func (a *Account) startSyncer() {
	p := a.store.policy
	if p.kind != syncEvery {
		return
	}
	a.syncer = repeat(a.cfg.clock, p.every, &a.wg, func() {
		_ = a.journal.sync()
		for _, sh := range a.allShards() {
			sh.mu.Lock()
			dirty := sh.durability.synced < sh.seg.Written() || sh.files.dirtyLocked()
			sh.mu.Unlock()
			if dirty {
				_ = sh.syncAll()
			}
		}
	})
}

// maxSyncsAtOnce bounds the syncs one batch runs at once.
const maxSyncsAtOnce = 32

// awaitAll waits until the records a batch appended to each shard it
// touched are durable, and returns each shard's error. Each shard has files
// of its own, so a batch across many shards waits for many syncs: they run
// at once (up to maxSyncsAtOnce), as a disk serves queued flushes together,
// rather than one after another. A nil result means no error.
func awaitAll(touched []touchedShard) []error {
	if len(touched) == 1 { // no goroutine, no allocation
		if err := touched[0].sh.awaitDurable(touched[0].last, touched[0].epoch); err != nil {
			return []error{err}
		}
		return nil
	}
	errs := make([]error, len(touched))
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxSyncsAtOnce)
	for i, t := range touched {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = t.sh.awaitDurable(t.last, t.epoch)
			<-slots
		}()
	}
	wg.Wait()
	return errs
}

// touchedShard is a shard a PutBatch appended to, under SyncAlways: its
// last record there and the failure epoch when the first was appended.
type touchedShard struct {
	sh    *shard
	last  uint64
	epoch uint64
}

// addTouched records that the batch appended to sh up to last.
func addTouched(ts []touchedShard, sh *shard, last uint64) []touchedShard {
	for i := range ts {
		if ts[i].sh == sh {
			ts[i].last = max(ts[i].last, last)
			return ts
		}
	}
	return append(ts, touchedShard{sh: sh, last: last, epoch: sh.durability.epoch})
}
