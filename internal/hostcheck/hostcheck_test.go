package hostcheck

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAllow(t *testing.T) {
	var n Names
	n.Add("Dev.Example.")
	loopback := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4567}
	public := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 4567}
	for _, tc := range []struct {
		local net.Addr
		host  string
		want  bool
	}{
		{loopback, "localhost:4567", true},
		{loopback, "api.localhost", true},
		{loopback, "127.0.0.1:4567", true},
		{loopback, "[::1]:4567", true},
		{loopback, "dev.example", true},
		{loopback, "DEV.EXAMPLE.:4567", true},
		{loopback, "", true},
		{loopback, "rebound.example", false},
		{loopback, "10.0.0.1", false},
		{public, "rebound.example", true},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Host = tc.host
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, tc.local))
		require.Equal(t, tc.want, n.Allow(r), "%v %q", tc.local, tc.host)
	}
	var none Names
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Host = "dev.example"
	r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, loopback))
	require.False(t, none.Allow(r), "the zero value: loopback names only")
}
