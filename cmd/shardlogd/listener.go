package main

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// limitListener caps the connections open at once. When the cap is reached
// it closes the connection that has been idle longest (between requests) to
// make room; if none is idle, it stops accepting until one closes. Clients
// that hold idle keep-alive connections therefore cannot lock others out,
// and the server never runs out of file descriptors.
type limitListener struct {
	net.Listener
	slots chan struct{} // one per open connection
	done  chan struct{} // closed by Close
	idled chan struct{} // cap 1: a connection became idle

	mu   sync.Mutex             // guards idle
	idle map[net.Conn]time.Time // connections idle between requests, since when
}

func newLimitListener(l net.Listener, max int) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, max), done: make(chan struct{}), idled: make(chan struct{}, 1), idle: map[net.Conn]time.Time{}}
}

// Accept takes the next connection, then a slot for it: a free one, or the
// slot of the longest-idle connection, which it closes, or, with every
// connection busy, the next slot to come free. Eviction thus happens only
// for a client that has arrived.
func (l *limitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	for {
		select {
		case l.slots <- struct{}{}:
			return &limitedConn{Conn: c, l: l}, nil
		default:
		}
		if l.closeOldestIdle() {
			continue // its slot came back as it closed
		}
		select { // all busy: wait for one to close or go idle
		case l.slots <- struct{}{}:
			return &limitedConn{Conn: c, l: l}, nil
		case <-l.idled:
		case <-l.done:
			c.Close()
			return nil, net.ErrClosed
		}
	}
}

func (l *limitListener) Close() error {
	l.mu.Lock()
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	l.mu.Unlock()
	return l.Listener.Close()
}

// closeOldestIdle closes the longest-idle connection, reporting whether
// there was one. Its slot is freed once the connection has closed.
func (l *limitListener) closeOldestIdle() bool {
	l.mu.Lock()
	var oldest net.Conn
	var since time.Time
	for c, t := range l.idle {
		if oldest == nil || t.Before(since) {
			oldest, since = c, t
		}
	}
	delete(l.idle, oldest)
	l.mu.Unlock()
	if oldest == nil {
		return false
	}
	oldest.Close() // frees its slot at once: it is a *limitedConn
	return true
}

// connState follows the server's connections: an http.Server's ConnState.
func (l *limitListener) connState(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s == http.StateIdle {
		l.idle[c] = time.Now()
		select {
		case l.idled <- struct{}{}:
		default:
		}
	} else {
		delete(l.idle, c)
	}
}

// limitedConn frees its slot when closed, once.
type limitedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { <-c.l.slots })
	return err
}
