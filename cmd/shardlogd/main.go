// Command shardlogd serves the Kinesis Data Streams API on a local address,
// for AWS SDKs, the AWS CLI and Kinesis tools in any language:
//
//	go run ./cmd/shardlogd -addr 127.0.0.1:4567
//	aws --endpoint-url http://127.0.0.1:4567 kinesis list-streams
//
// The same port serves CloudWatch's GetMetricStatistics, GetMetricData and
// ListMetrics over the streams' metrics (see package cloudwatchapi):
//
//	aws --endpoint-url http://127.0.0.1:4567 cloudwatch list-metrics
//
// and Amazon Data Firehose's API (see package firehoseapi): delivery
// streams fed by PutRecord or by a stream, delivering to S3 buckets — a
// folder each under -buckets — and to HTTP endpoints:
//
//	aws --endpoint-url http://127.0.0.1:4567 firehose list-delivery-streams
//
// with their metrics in CloudWatch's namespace AWS/Firehose.
//
// State lives in memory and is lost on exit, unless -data names a
// directory: then streams, records, consumers and tags survive a restart, a
// kill -9 and (with the default -sync always) a power loss. Any credentials
// are accepted, unless -iam names the account's principals and keys.
//
// No client can exhaust the server: record memory is capped for the whole
// account (-max-bytes, -max-records; the oldest records go first), request
// bodies are capped in size and in the memory they hold at once, slow
// bodies, slow readers and idle connections time out, connections are
// capped (the longest idle is closed to make room), and requests that
// arrive on a loopback address must name a loopback host. -h lists the
// flags and their defaults.
//
// The server listens at once: while it opens its data directory, GET
// /healthz answers 200, and /readyz and the API 503 (which SDKs retry). On
// SIGTERM or SIGINT it drains for -drain: /readyz answers 503 and every
// response closes its connection, while requests are still served; then
// it stops listening, lets in-flight requests finish and closes the
// account. A second signal ends the drain at once.
//
// Each port speaks HTTP/1.1 and HTTP/2: in cleartext HTTP/2 needs prior
// knowledge (as the JavaScript SDK v3 has); with -tls-cert and -tls-key, or
// -tls-self-signed for local use, the server speaks HTTPS and negotiates
// HTTP/2 by ALPN.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop, hurry := signals()
	if err := run(stop, hurry, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "shardlogd:", err)
		os.Exit(1)
	}
}

// signals returns a context done at the first SIGTERM or SIGINT and a
// channel closed at the second.
func signals() (context.Context, <-chan struct{}) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	hurry := make(chan struct{})
	go func() {
		<-ch
		cancel()
		<-ch
		close(hurry)
	}()
	return ctx, hurry
}

// run serves until stop is done, then drains until the drain period is
// over or hurry is closed, and stops. It prints the endpoint to stdout
// once the account is open (and, for a self-signed certificate, its
// fingerprint on the next line); the log goes to stderr.
func run(stop context.Context, hurry <-chan struct{}, args []string, stdout, stderr io.Writer) error {
	s, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	return listenAndServe(stop, hurry, s, stdout)
}
