package kinesisapi

import (
	"context"
	"sync"
)

// budget is a weighted semaphore over bytes: the memory that requests being
// read or served may hold at once. Waiters are served in arrival order, so a
// large request is not starved by a stream of small ones.
type budget struct {
	mu      sync.Mutex // guards free and waiters
	size    int64
	free    int64
	waiters []*waiter
	onWait  func() // a test hook: called when a caller starts waiting
}

type waiter struct {
	n     int64
	ready chan struct{} // closed when n bytes were granted
}

func newBudget(size int64) *budget { return &budget{size: size, free: size} }

// acquire takes n bytes (at most the whole budget), waiting until they are
// free or ctx is done.
func (b *budget) acquire(ctx context.Context, n int64) error {
	n = min(n, b.size)
	b.mu.Lock()
	if len(b.waiters) == 0 && b.free >= n {
		b.free -= n
		b.mu.Unlock()
		return nil
	}
	w := &waiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	onWait := b.onWait
	b.mu.Unlock()
	if onWait != nil {
		onWait()
	}
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		defer b.mu.Unlock()
		select {
		case <-w.ready: // granted meanwhile: give it back
			b.free += n
			b.grantLocked()
		default:
			for i, x := range b.waiters {
				if x == w {
					b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
					break
				}
			}
			b.grantLocked() // the head may have changed
		}
		return ctx.Err()
	}
}

// release returns n bytes taken by acquire.
func (b *budget) release(n int64) {
	n = min(n, b.size)
	b.mu.Lock()
	b.free += n
	b.grantLocked()
	b.mu.Unlock()
}

func (b *budget) grantLocked() {
	for len(b.waiters) > 0 && b.free >= b.waiters[0].n {
		w := b.waiters[0]
		b.waiters = b.waiters[1:]
		b.free -= w.n
		close(w.ready)
	}
}
