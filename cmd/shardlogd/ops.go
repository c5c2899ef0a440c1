package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/shardlog/shardlog/internal/hostcheck"
	"github.com/shardlog/shardlog/kinesisapi"
)

// ops is the server's front: it serves the operations endpoints beside
// the Kinesis API — GET /healthz (live: the process serves), GET /readyz
// (ready: the account is open and its recovery done; not while draining),
// GET /metrics (Prometheus) and, with -pprof, /debug/pprof/ — and passes
// the rest to the API once the account is open (503 until then). Kinesis
// ignores the path of its POSTs, so the endpoints take only GETs. Like the
// API, they answer a request that arrived on loopback only if it names a
// loopback host (or an -allow-host name), which defeats DNS rebinding; the
// profiler answers clients on loopback only.
type ops struct {
	hosts    hostcheck.Names
	mux      *http.ServeMux
	served   atomic.Pointer[opened] // nil while the account opens
	draining atomic.Bool
}

// opened is what ops serves once the account is open.
type opened struct {
	api, metrics http.Handler
}

func newOps(pprofOn bool, hosts []string) *ops {
	o := &ops{mux: http.NewServeMux()}
	o.hosts.Add(hosts...)
	o.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	o.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case o.served.Load() == nil:
			http.Error(w, "opening the account", http.StatusServiceUnavailable)
		case o.draining.Load():
			http.Error(w, "draining", http.StatusServiceUnavailable)
		default:
			_, _ = w.Write([]byte("ready\n"))
		}
	})
	o.mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if s := o.served.Load(); s != nil {
			s.metrics.ServeHTTP(w, r)
			return
		}
		http.Error(w, "opening the account", http.StatusServiceUnavailable)
	})
	if pprofOn {
		o.mux.Handle("GET /debug/pprof/", loopbackOnly(pprof.Index))
		o.mux.Handle("GET /debug/pprof/cmdline", loopbackOnly(pprof.Cmdline))
		o.mux.Handle("GET /debug/pprof/profile", loopbackOnly(pprof.Profile))
		o.mux.Handle("GET /debug/pprof/symbol", loopbackOnly(pprof.Symbol))
		o.mux.Handle("GET /debug/pprof/trace", loopbackOnly(pprof.Trace))
	}
	return o
}

// open starts serving the API and the metrics.
func (o *ops) open(api, metrics http.Handler) { o.served.Store(&opened{api: api, metrics: metrics}) }

// startDrain turns /readyz to 503 and makes every response close its
// connection (an HTTP/2 one is sent GOAWAY), so that clients go elsewhere
// while their requests are still served.
func (o *ops) startDrain() { o.draining.Store(true) }

func (o *ops) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if o.draining.Load() {
		w.Header().Set("Connection", "close")
	}
	if r.Method == http.MethodGet {
		if h, pattern := o.mux.Handler(r); pattern != "" {
			if !o.hosts.Allow(r) {
				http.Error(w, fmt.Sprintf("Host %q is not a loopback name; allow it with -allow-host.", r.Host), http.StatusForbidden)
				return
			}
			h.ServeHTTP(w, r)
			return
		}
	}
	s := o.served.Load()
	if s == nil {
		unavailable(w)
		return
	}
	s.api.ServeHTTP(w, r)
}

// unavailable answers an API request while the account opens, as AWS
// answers when it cannot serve: 503, which SDKs retry.
func unavailable(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-ErrorType", "ServiceUnavailableException")
	h.Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"__type":"ServiceUnavailableException","message":"The server is opening its account; try again."}`))
}

// loopbackOnly serves h to clients on loopback only: the profiler shows
// the process's memory and command line, and costs CPU to run.
func loopbackOnly(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			http.Error(w, "The profiler is served to clients on loopback only.", http.StatusForbidden)
			return
		}
		h(w, r)
	})
}

// requestLogger logs each request: every one at debug level; at info
// level, as many as perSecond allows (in bursts of as many), and how many
// were left out since the last one logged, so that a flood of requests
// cannot flood the log.
func requestLogger(log *slog.Logger, perSecond int) func(kinesisapi.RequestLog) {
	limit := rate.NewLimiter(rate.Limit(perSecond), max(perSecond, 1))
	var skipped atomic.Int64
	return func(l kinesisapi.RequestLog) {
		level := slog.LevelInfo
		if !log.Enabled(context.Background(), slog.LevelDebug) && !limit.Allow() {
			skipped.Add(1)
			return
		}
		if log.Enabled(context.Background(), slog.LevelDebug) {
			level = slog.LevelDebug
		}
		attrs := []slog.Attr{slog.String("op", l.Operation), slog.Int("status", l.Status),
			slog.Duration("took", l.Duration.Round(time.Microsecond)), slog.String("remote", l.Remote)}
		if l.Stream != "" {
			attrs = append(attrs, slog.String("stream", l.Stream))
		}
		if l.Error != "" {
			attrs = append(attrs, slog.String("error", l.Error))
		}
		if n := skipped.Swap(0); n > 0 {
			attrs = append(attrs, slog.Int64("skipped", n))
		}
		log.LogAttrs(context.Background(), level, "request", attrs...)
	}
}
