package shardlog

import "time"

// parkAfter is how long a durable shard goes without a record before
// ApplyRetention (and so the janitor) parks it.
const parkAfter = 5 * time.Minute

// parkIfIdle lets an idle durable shard's memory go, leaving it as opening
// leaves a shard: its records in their files, read back when asked for,
// the file being written finished (a small one left to opening's scan, as
// Close leaves it), no spare file, no load meter of a past minute. The next
// record starts a new file. A shard with something not yet durable is left
// for the next time.
func (sh *shard) parkIfIdle(now time.Time) {
	sf := sh.files
	if sf == nil {
		return
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if now.UnixMilli()-sh.lastMillis < parkAfter.Milliseconds() || sh.durability.syncing {
		return
	}
	if sh.sync != syncNone && (sf.dirtyLocked() || sf.active != nil && sf.active.synced < sh.seg.Used()) {
		return
	}
	if sh.load != nil && sh.load.minute < minuteOf(now)-1 {
		sh.load = nil // ShardLoads asks only for the last minute
	}
	sf.dropSpare()
	sf.parking = true
	sh.seg.Park()
	sf.parking = false
}
