package analytics

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/shardlog/shardlog"
)

// ErrJobTakenOver is returned by Run when another instance of the job
// took its lock: this one had stopped renewing it for FailoverTime (a
// pause, a partition) and must not run on beside the new holder.
var ErrJobTakenOver = errors.New("analytics: another instance took the job over")

// jobLock is a job's lease on itself, kept in the groups' lease store as
// the one lease of the table "analytics/<job>": one instance of a job runs
// at a time, and another takes over once the holder stops renewing it for
// FailoverTime — as the consumer groups' leases do for shards.
type jobLock struct {
	store    shardlog.LeaseStore
	table    string
	owner    string
	clock    shardlog.Clock
	failover time.Duration

	mu     sync.Mutex
	held   shardlog.Lease // guarded by mu: the lease as last written
	timer  shardlog.Timer // guarded by mu: the next renewal
	lost   chan struct{}  // closed when a renewal finds the lease taken
	closed bool           // guarded by mu
}

const lockKey = "job"

func newJobLock(store shardlog.LeaseStore, job, owner string, clock shardlog.Clock, failover time.Duration) *jobLock {
	if owner == "" {
		host, _ := os.Hostname()
		var b [6]byte
		_, _ = rand.Read(b[:])
		owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	return &jobLock{store: store, table: "analytics/" + job, owner: owner, clock: clock, failover: failover, lost: make(chan struct{})}
}

// acquire waits until the lock is this instance's: free, its own from
// before a restart, or not renewed for the failover time.
func (l *jobLock) acquire(ctx context.Context) error {
	var seen shardlog.Lease
	var seenAt time.Time
	for {
		leases, err := l.store.Leases(ctx, l.table)
		if err != nil {
			return fmt.Errorf("analytics: reading the job's lease: %w", err)
		}
		var cur *shardlog.Lease
		for i := range leases {
			if leases[i].Key == lockKey {
				cur = &leases[i]
			}
		}
		now := l.clock.Now()
		next := shardlog.Lease{Key: lockKey, Owner: l.owner}
		take := cur == nil || cur.Owner == "" || cur.Owner == l.owner
		if cur != nil {
			next.Counter = cur.Counter + 1
			if cur.Owner != seen.Owner || cur.Counter != seen.Counter || seenAt.IsZero() {
				seen, seenAt = *cur, now
			} else if now.Sub(seenAt) >= l.failover {
				take = true // its holder stopped renewing it
			}
		}
		if take {
			err := l.store.Swap(ctx, l.table, cur, next)
			if err == nil {
				l.mu.Lock()
				l.held = next
				l.mu.Unlock()
				l.schedule()
				return nil
			}
			if !errors.Is(err, shardlog.ErrLeaseConflict) {
				return fmt.Errorf("analytics: taking the job's lease: %w", err)
			}
			continue
		}
		if err := sleep(ctx, l.clock, l.failover/3); err != nil {
			return err
		}
	}
}

func (l *jobLock) schedule() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.timer = l.clock.AfterFunc(l.failover/3, l.renew)
	}
}

// renew raises the lease's counter, as its holder's sign of life.
func (l *jobLock) renew() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	next := l.held
	next.Counter++
	err := l.store.Swap(context.Background(), l.table, &l.held, next)
	switch {
	case err == nil:
		l.held = next
	case errors.Is(err, shardlog.ErrLeaseConflict):
		l.closed = true
		close(l.lost)
		return
	}
	// A store that failed is tried again at the next renewal.
	l.timer = l.clock.AfterFunc(l.failover/3, l.renew)
}

// release stops renewing and frees the lease for the next instance.
func (l *jobLock) release(ctx context.Context) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer != nil {
		l.timer.Stop()
	}
	if l.closed {
		return
	}
	l.closed = true
	free := l.held
	free.Owner = ""
	free.Counter++
	_ = l.store.Swap(ctx, l.table, &l.held, free)
}
