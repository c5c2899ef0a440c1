package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/shardlog/shardlog/kinesisapi"
)

// ops serves the operations endpoints beside the Kinesis API: GET
// /healthz (live: the process serves), GET /readyz (ready: the account is
// open and its recovery done; not while shutting down), GET /metrics
// (Prometheus) and, with -pprof, /debug/pprof/. Kinesis ignores the path of its POSTs, so these take only
// GETs.
type ops struct {
	ready   atomic.Bool
	pprof   bool
	metrics http.Handler // GET /metrics
}

func (o *ops) wrap(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !o.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	if o.metrics != nil {
		mux.Handle("GET /metrics", o.metrics)
	}
	if o.pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			if h, pattern := mux.Handler(r); pattern != "" {
				h.ServeHTTP(w, r)
				return
			}
		}
		next.ServeHTTP(w, r)
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
