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

	mu   sync.Mutex             // guards idle
	idle map[net.Conn]time.Time // connections idle between requests, since when
}

func newLimitListener(l net.Listener, max int) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, max), done: make(chan struct{}), idle: map[net.Conn]time.Time{}}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		select {
		case l.slots <- struct{}{}:
		default:
			if l.closeOldestIdle() {
				continue // its slot comes back as it closes
			}
			select { // all busy: wait for one to close
			case l.slots <- struct{}{}:
			case <-l.done:
				return nil, net.ErrClosed
			}
		}
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.slots
			return nil, err
		}
		return &limitedConn{Conn: c, l: l}, nil
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
