package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/firehoseapi"
	"github.com/shardlog/shardlog/prom"
)

// metricsHandler serves GET /metrics in Prometheus's text format: the
// account's Kinesis metrics and consumer-group lag, the delivery streams'
// Firehose metrics (package prom), and the Go runtime's and the process's
// metrics. Scrapes are bounded: two at a time, ten seconds each.
func metricsHandler(acct *shardlog.Account, fh *firehoseapi.Server, log *slog.Logger) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		prom.NewCollector(acct),
		prom.NewDeliveryCollectorFunc(fh.DeliveryStreams),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		MaxRequestsInFlight: 2,
		Timeout:             10 * time.Second,
	})
}
