package kinesisapi

import (
	"net"
	"net/http"
	"strings"
)

// hostAllowed guards against DNS rebinding: a web page whose name resolves
// to 127.0.0.1 can make a browser send requests to a local server, but the
// browser then sends the page's name as Host. A request that arrived on a
// loopback address must therefore name a loopback host (localhost, a
// *.localhost name, or a loopback IP) or one of the names the handler was
// told to accept. A server reached on another address is exposed by choice,
// and any name is accepted there.
func (h *handler) hostAllowed(r *http.Request) bool {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok || !isLoopbackAddr(local) {
		return true
	}
	host := r.Host
	if name, _, err := net.SplitHostPort(host); err == nil {
		host = name
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "" || host == "localhost" || strings.HasSuffix(host, ".localhost") || h.hosts[host] {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isLoopbackAddr(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
