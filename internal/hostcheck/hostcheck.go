// Package hostcheck guards a local server against DNS rebinding: a web page
// whose name resolves to 127.0.0.1 can make a browser send requests to a
// server on loopback, but the browser then sends the page's name as Host.
// A request that arrived on a loopback address must therefore name a
// loopback host (localhost, a *.localhost name, or a loopback IP) or one of
// the names the server was told to accept. A server reached on another
// address is exposed by choice, and any name is accepted there.
package hostcheck

import (
	"net"
	"net/http"
	"strings"
)

// Names are the host names accepted besides loopback ones. The zero value
// accepts loopback names only.
type Names struct {
	extra map[string]bool
}

// Add accepts names (case does not matter, nor a trailing dot).
func (n *Names) Add(names ...string) {
	if n.extra == nil {
		n.extra = map[string]bool{}
	}
	for _, name := range names {
		n.extra[strings.ToLower(strings.TrimSuffix(name, "."))] = true
	}
}

// Allow reports whether r may be served: it arrived on an address other
// than loopback, or its Host is a loopback name or one of n.
func (n *Names) Allow(r *http.Request) bool {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok || !IsLoopback(local) {
		return true
	}
	host := r.Host
	if name, _, err := net.SplitHostPort(host); err == nil {
		host = name
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "" || host == "localhost" || strings.HasSuffix(host, ".localhost") || n.extra[host] {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsLoopback reports whether a is a TCP address on loopback.
func IsLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
