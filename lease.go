package shardlog

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Lease is a consumer group's claim on one shard, in the Kinesis Client
// Library's terms: who holds it, a counter its holder raises to show it is
// alive, and how far the group has processed the shard.
type Lease struct {
	Key     string // the shard ID
	Owner   string // the worker holding it; "" when free
	Counter int64  // raised by every renewal, take and checkpoint
	// Checkpoint is the sequence number of the last record processed: the
	// group resumes after it. A shard not yet read has its
	// StartingSequenceNumber, one read to its end its EndingSequenceNumber
	// (see ShardEnd); on a StreamAPI other than *Stream, a shard not yet
	// read has none, and Start says where it begins.
	Checkpoint SequenceNumber
	// Start is where the shard's processing began: TRIM_HORIZON (also
	// when empty), LATEST, or AT_TIMESTAMP at the group's InitialPosition —
	// the Kinesis Client Library's checkpoint sentinels. It matters only
	// while there is no Checkpoint.
	Start IteratorType
	// CheckpointSubSequence, if not 0, puts the checkpoint inside the KPL
	// aggregate at Checkpoint: its user records up to this sub-sequence
	// number were processed, the rest were not (see
	// Checkpointer.CheckpointUserRecord).
	CheckpointSubSequence int64
	ShardEnd              bool     // the shard was read to its end and checkpointed there
	Parents               []string // the shard's parents: it is read after they end
	// Successor is a worker that asked the Owner to hand the lease over,
	// to balance the group: the Owner lets its processor checkpoint
	// (ShutdownRequested), then makes the successor the owner. It is the
	// Kinesis Client Library's checkpointOwner.
	Successor string `json:",omitempty"`
}

// ErrLeaseConflict is returned by a LeaseStore when a conditional write
// finds the lease changed: another worker took it, or it was renewed
// meanwhile. A worker that gets it for a lease it held has lost that lease.
var ErrLeaseConflict = errors.New("shardlog: the lease changed meanwhile")

// LeaseStore keeps the leases of consumer groups, one table of leases per
// group. Workers in one process or many share a group through it, so every
// write is conditional, as the Kinesis Client Library's on DynamoDB. The
// account's own store ([Account.LeaseStore]) keeps them with the account,
// durable with it; implement this interface to keep them elsewhere.
// Implementations must be safe for concurrent use.
type LeaseStore interface {
	// Leases returns the leases of table, in any order.
	Leases(ctx context.Context, table string) ([]Lease, error)
	// Swap writes lease into table if the lease stored under its key is
	// still old (the same Owner and Counter); with old nil, if there is no
	// lease under that key. Otherwise it returns ErrLeaseConflict.
	Swap(ctx context.Context, table string, old *Lease, lease Lease) error
}

// LeaseStore returns the account's store of consumer-group leases, the
// default of WorkerConfig.Leases. A durable account keeps them in its
// directory: checkpoints survive restarts, and under SyncAlways a
// checkpoint is durable when it returns.
func (a *Account) LeaseStore() LeaseStore { return a.leases }

// dropLeaseTables forgets the groups of a deleted stream.
func (a *Account) dropLeaseTables(s *Stream) {
	prefix := s.leaseTable("")
	if a.journal != nil {
		a.journal.drop(prefix)
		return
	}
	m := a.memTables()
	m.mu.Lock()
	m.dropLocked(prefix)
	m.mu.Unlock()
}

// memTables returns the tables of the account's LeaseStore.
func (a *Account) memTables() *memLeases {
	if a.journal != nil {
		return &a.journal.mem
	}
	return a.leases.(*memLeases)
}

// NewMemoryLeaseStore returns a LeaseStore that keeps leases in memory.
func NewMemoryLeaseStore() LeaseStore { return &memLeases{tables: map[string]map[string]Lease{}} }

// memLeases is the in-memory LeaseStore, and the account's store's cache.
type memLeases struct {
	mu     sync.Mutex
	tables map[string]map[string]Lease
	// watchers are told when a lease of their table changes hands: freed,
	// taken, asked for or handed over.
	watchers map[string]map[*leaseWatch]bool
}

// leaseWatch is one watcher of a table.
type leaseWatch struct{ f func() }

// leaseWatcher is a LeaseStore that tells workers when a lease changes
// hands, so that they take a freed or handed-over lease at once rather
// than at their next pass. The account's stores are; others need not be.
type leaseWatcher interface {
	watch(table string, f func()) (stop func())
}

func (m *memLeases) watch(table string, f func()) (stop func()) {
	w := &leaseWatch{f: f}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.watchers == nil {
		m.watchers = map[string]map[*leaseWatch]bool{}
	}
	if m.watchers[table] == nil {
		m.watchers[table] = map[*leaseWatch]bool{}
	}
	m.watchers[table][w] = true
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.watchers[table], w)
		if len(m.watchers[table]) == 0 {
			delete(m.watchers, table)
		}
	}
}

// watchersLocked returns who to tell of a write of lease over prev (had:
// whether there was one): nobody unless it changed hands.
func (m *memLeases) watchersLocked(table string, prev Lease, had bool, lease Lease) []func() {
	if had && prev.Owner == lease.Owner && prev.Successor == lease.Successor {
		return nil
	}
	var out []func()
	for w := range m.watchers[table] {
		out = append(out, w.f)
	}
	return out
}

func (m *memLeases) Leases(ctx context.Context, table string) ([]Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Collect(maps.Values(m.tables[table]))
	for i := range out {
		out[i].Parents = slices.Clone(out[i].Parents)
	}
	return out, nil
}

func (m *memLeases) Swap(ctx context.Context, table string, old *Lease, lease Lease) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	t := m.tables[table]
	cur, had := t[lease.Key] // one lookup: a checkpoint is a Swap
	if conflicts(cur, had, old) {
		m.mu.Unlock()
		return ErrLeaseConflict
	}
	tell := m.watchersLocked(table, cur, had, lease)
	if t == nil {
		t = map[string]Lease{}
		m.tables[table] = t
	}
	t[lease.Key] = keepParents(cur, had, lease)
	m.mu.Unlock()
	for _, f := range tell {
		f()
	}
	return nil
}

// conflicts reports whether a Swap from old finds cur (had: whether there
// is one) changed.
func conflicts(cur Lease, had bool, old *Lease) bool {
	return old == nil && had || old != nil && (!had || cur.Owner != old.Owner || cur.Counter != old.Counter)
}

// keepParents returns lease with cur's Parents if they are equal, so that
// a checkpoint allocates nothing, else with a copy of its own.
func keepParents(cur Lease, had bool, lease Lease) Lease {
	if had && slices.Equal(cur.Parents, lease.Parents) {
		lease.Parents = cur.Parents
	} else {
		lease.Parents = slices.Clone(lease.Parents)
	}
	return lease
}

// checkLocked reports whether the condition of a Swap holds.
func (m *memLeases) checkLocked(table string, old *Lease, lease Lease) error {
	cur, ok := m.tables[table][lease.Key]
	if conflicts(cur, ok, old) {
		return ErrLeaseConflict
	}
	return nil
}

// applyLocked stores lease.
func (m *memLeases) applyLocked(table string, lease Lease) {
	t := m.tables[table]
	if t == nil {
		t = map[string]Lease{}
		m.tables[table] = t
	}
	cur, ok := t[lease.Key]
	t[lease.Key] = keepParents(cur, ok, lease)
}

// hasPrefixLocked reports whether a table's name starts with prefix.
func (m *memLeases) hasPrefixLocked(prefix string) bool {
	for name := range m.tables {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// dropLocked forgets the tables whose names start with prefix.
func (m *memLeases) dropLocked(prefix string) {
	for name := range m.tables {
		if strings.HasPrefix(name, prefix) {
			delete(m.tables, name)
		}
	}
}
