package kinesisapi

import (
	"context"
	"net"
	"net/http"
	"sync"
)

// memory is the memory that requests being read or served hold at once:
// a total, and shares of it for one connection and for one client address,
// so that a slow or greedy client starves only itself. It is taken as
// bodies arrive, a chunk at a time, not as they are declared: a client
// that declares a large body and sends little holds little.
//
// Waiters are served in arrival order as far as the total goes, so that a
// large request is not starved by a stream of small ones; a waiter held
// back by its own connection's or client's share does not hold back the
// others.
type memory struct {
	mu                      sync.Mutex // guards the fields below
	total, perConn, perAddr int64
	free                    int64
	byConn, byAddr          map[string]int64
	waiters                 []*waiter
	onWait                  func() // a test hook: called when a caller starts waiting
}

// holder is who takes memory: a request's connection and client address.
type holder struct{ conn, addr string }

// holderOf names r's connection (its remote address and port; the streams
// of an HTTP/2 connection share it) and its client (the remote address).
func holderOf(r *http.Request) holder {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return holder{conn: r.RemoteAddr, addr: host}
}

type waiter struct {
	who   holder
	n     int64
	ready chan struct{} // closed when n bytes were granted
}

func newMemory(total, perConn, perAddr int64) *memory {
	return &memory{total: total, perConn: min(perConn, total), perAddr: min(perAddr, total), free: total,
		byConn: map[string]int64{}, byAddr: map[string]int64{}}
}

// clamp caps n at what one holder may ever take.
func (m *memory) clamp(n int64) int64 { return min(n, m.perConn, m.perAddr) }

// acquire takes n bytes for who (at most its share), waiting until they
// are free or ctx is done.
func (m *memory) acquire(ctx context.Context, who holder, n int64) error {
	n = m.clamp(n)
	m.mu.Lock()
	if len(m.waiters) == 0 && m.fitsLocked(who, n) {
		m.takeLocked(who, n)
		m.mu.Unlock()
		return nil
	}
	w := &waiter{who: who, n: n, ready: make(chan struct{})}
	m.waiters = append(m.waiters, w)
	m.grantLocked() // it may be held back only by others' shares
	onWait := m.onWait
	m.mu.Unlock()
	if onWait != nil {
		onWait()
	}
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		m.mu.Lock()
		defer m.mu.Unlock()
		select {
		case <-w.ready: // granted meanwhile: give it back
			m.giveLocked(who, n)
		default:
			for i, x := range m.waiters {
				if x == w {
					m.waiters = append(m.waiters[:i], m.waiters[i+1:]...)
					break
				}
			}
		}
		m.grantLocked() // the head may have changed
		return ctx.Err()
	}
}

// release returns n bytes who took with acquire.
func (m *memory) release(who holder, n int64) {
	n = m.clamp(n)
	m.mu.Lock()
	m.giveLocked(who, n)
	m.grantLocked()
	m.mu.Unlock()
}

func (m *memory) fitsLocked(who holder, n int64) bool {
	return m.free >= n && m.byConn[who.conn]+n <= m.perConn && m.byAddr[who.addr]+n <= m.perAddr
}

func (m *memory) takeLocked(who holder, n int64) {
	m.free -= n
	m.byConn[who.conn] += n
	m.byAddr[who.addr] += n
}

func (m *memory) giveLocked(who holder, n int64) {
	m.free += n
	if m.byConn[who.conn] -= n; m.byConn[who.conn] <= 0 {
		delete(m.byConn, who.conn)
	}
	if m.byAddr[who.addr] -= n; m.byAddr[who.addr] <= 0 {
		delete(m.byAddr, who.addr)
	}
}

// grantLocked serves the waiters in order while the total lasts, passing
// over those their own shares hold back.
func (m *memory) grantLocked() {
	kept := m.waiters[:0]
	for i, w := range m.waiters {
		switch {
		case m.free < w.n:
			kept = append(kept, m.waiters[i:]...)
			m.waiters = kept
			return
		case m.fitsLocked(w.who, w.n):
			m.takeLocked(w.who, w.n)
			close(w.ready)
		default:
			kept = append(kept, w)
		}
	}
	m.waiters = kept
}
