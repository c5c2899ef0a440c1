package shardlog

import "time"

// Under SyncNone nothing syncs a segment file, yet an index record must
// not promise what a power cut may take: a finished file is indexed only
// after a sync. Syncing each file as it is finished would make the writer
// pay for writeback the kernel does anyway, at several times the cost of
// a Put (BenchmarkDurablePut under SyncNone). So a finished file waits until the kernel has most likely written
// it back (Linux's dirty_expire_centisecs is 30 s), when its sync costs
// little; then it is synced and indexed in the background. Close indexes
// those still waiting; after a crash, opening scans them.

// lazyDelay is how long a finished file waits for its sync under SyncNone
// (a variable for tests).
var lazyDelay = 30 * time.Second

// lazyFile is a file finished under SyncNone, waiting to be synced and
// indexed.
type lazyFile struct {
	n        uint32
	index    []byte
	finished time.Time
}

// indexLater queues file a, closing it now. Serialized with Add.
func (sf *shardFiles) indexLater(a *openFile) {
	now := time.Now()
	sf.lazy = append(sf.lazy, lazyFile{n: a.n, index: a.index, finished: now})
	a.index, a.done = nil, true
	sf.release(a)
	sf.indexDue(now)
}

// indexDue syncs and indexes, in the background, the queued files whose
// wait is over. Serialized with Add.
func (sf *shardFiles) indexDue(now time.Time) {
	i := 0
	for i < len(sf.lazy) && now.Sub(sf.lazy[i].finished) >= lazyDelay {
		i++
	}
	if i == 0 {
		return
	}
	if !sf.lazyBusy.CompareAndSwap(false, true) {
		return // one at a time per shard; the next finish takes the rest
	}
	due := sf.lazy[:i:i]
	sf.lazy = sf.lazy[i:]
	sf.indexing.Add(1)
	go func() {
		defer sf.indexing.Done()
		defer sf.lazyBusy.Store(false)
		sf.syncAndIndex(due)
	}()
}

// syncAndIndex syncs files and appends their index records.
func (sf *shardFiles) syncAndIndex(files []lazyFile) {
	for _, lf := range files {
		if lf.index == nil {
			continue // parked: left to opening's scan (see parkIfIdle)
		}
		if err := syncFile(sf.st.fs, sf.fileName(lf.n)); err != nil {
			continue // deleted meanwhile, or a fault: opening scans it
		}
		if err := sf.appendIndex(lf.index); err != nil {
			sf.st.log.Warn("shardlog: could not index a segment file", "file", sf.fileName(lf.n), "err", err)
		}
	}
}

// forgetLazy drops file n from the queue (it is being deleted).
// Serialized with Add.
func (sf *shardFiles) forgetLazy(n uint32) {
	for i, lf := range sf.lazy {
		if lf.n == n {
			sf.lazy = append(sf.lazy[:i:i], sf.lazy[i+1:]...)
			return
		}
	}
}
