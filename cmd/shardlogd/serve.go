package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/cloudwatchapi"
	fh "github.com/shardlog/shardlog/firehose"
	"github.com/shardlog/shardlog/firehoseapi"
	"github.com/shardlog/shardlog/kinesisapi"
)

// listenAndServe listens, opens the account, serves it until stop is done, drains
// and stops (see the package doc).
func listenAndServe(stop context.Context, hurry <-chan struct{}, s *settings, stdout io.Writer) error {
	log := s.log
	tcp, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	ln := newLimitListener(tcp, s.maxConns)
	front := newOps(s.pprof, s.hosts)
	srv := &http.Server{
		Handler:           front,
		ReadHeaderTimeout: s.headerTimeout,
		IdleTimeout:       s.idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ConnState:         ln.connState,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		Protocols:         new(http.Protocols),
		// HTTP/2 connections are bounded like HTTP/1.1 ones: IdleTimeout
		// closes idle ones, and each carries a bounded number of requests.
		HTTP2:     &http.HTTP2Config{MaxConcurrentStreams: int(s.maxStreams)},
		TLSConfig: s.tls,
	}
	// HTTP/1.1 and HTTP/2 on one port: cleartext HTTP/2 with prior
	// knowledge (the JavaScript SDK's default on http:// endpoints), or
	// HTTP/2 negotiated by TLS.
	srv.Protocols.SetHTTP1(true)
	scheme := "http://"
	if s.tls != nil {
		srv.Protocols.SetHTTP2(true)
		scheme = "https://"
	} else {
		srv.Protocols.SetUnencryptedHTTP2(true)
	}
	errc := make(chan error, 1)
	go func() {
		if s.tls != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	endpoint := scheme + ln.Addr().String()
	log.Info("listening; opening the account", "endpoint", endpoint)

	acct, err := s.openAccount()
	if err != nil {
		_ = srv.Close()
		<-errc
		return err
	}
	firehose, err := s.openFirehose(acct)
	if err != nil {
		acct.Close()
		_ = srv.Close()
		<-errc
		return err
	}
	drain, startDrain := context.WithCancel(context.Background())
	defer startDrain()
	kinesis := kinesisapi.NewHandler(acct, append(s.handler, kinesisapi.WithDrain(drain))...)
	cloudwatch := cloudwatchapi.NewHandler(acct, append(s.cloudwatch, cloudwatchapi.WithSource(fh.MetricsNamespace, firehose.Server))...)
	front.open(services(kinesis, cloudwatch, firehose), metricsHandler(acct, firehose.Server, log))
	log.Info("serving Kinesis", append([]any{"endpoint", endpoint}, s.summary...)...)
	fmt.Fprintln(stdout, endpoint)
	if s.selfSigned {
		// For clients to pin or compare, whatever the log level.
		fmt.Fprintln(stdout, "self-signed certificate SHA-256 fingerprint:", fingerprint(s.tls))
	}

	select {
	case err = <-errc:
	case <-stop.Done():
		// Not ready any more, but still serving for the drain period, so
		// that load balancers stop sending here before connections are
		// refused; every response closes its connection, and subscriptions
		// end cleanly (clients subscribe again elsewhere).
		front.startDrain()
		startDrain()
		log.Info("draining", "for", s.drain, "then", "stopping")
		timer := time.NewTimer(s.drain)
		select {
		case <-timer.C:
		case <-hurry:
			log.Info("asked again to stop: the drain ends now")
		case err = <-errc:
		}
		timer.Stop()
		err = stopServing(srv, s.shutdownTimeout, log, err)
	}
	if cerr := firehose.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if cerr := acct.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// services serves Kinesis, CloudWatch's metric reads and Firehose on one
// port, as their clients tell them apart: CloudWatch's by its protocols'
// marks, Firehose's by its X-Amz-Target.
func services(kinesis, cloudwatch, firehose http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case cloudwatchapi.Handles(r):
			cloudwatch.ServeHTTP(w, r)
		case firehoseapi.Handles(r):
			firehose.ServeHTTP(w, r)
		default:
			kinesis.ServeHTTP(w, r)
		}
	})
}

// firehoseServer is the Firehose API's server, and the temporary folder
// of its buckets, if it has one.
type firehoseServer struct {
	*firehoseapi.Server
	tmp string
}

// openFirehose starts the Firehose API over acct; without -buckets and
// -data, its buckets are in a temporary folder, removed by Close.
func (s *settings) openFirehose(acct *shardlog.Account) (*firehoseServer, error) {
	cfg := s.firehose
	cfg.Kinesis = acct
	var tmp string
	if cfg.Buckets == "" {
		var err error
		if tmp, err = os.MkdirTemp("", "shardlogd-buckets-"); err != nil {
			return nil, err
		}
		cfg.Buckets = tmp
	}
	srv, err := firehoseapi.New(cfg)
	if err != nil {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
		return nil, err
	}
	s.log.Info("delivery streams write S3 objects under a folder per bucket", "buckets", cfg.Buckets)
	return &firehoseServer{srv, tmp}, nil
}

// Close stops the delivery streams and removes a temporary buckets folder.
func (f *firehoseServer) Close() error {
	err := f.Server.Close()
	if f.tmp != "" {
		os.RemoveAll(f.tmp)
	}
	return err
}

// openAccount opens the account and loads the -iam file, logging what
// recovery found.
func (s *settings) openAccount() (*shardlog.Account, error) {
	acct, err := s.open(s.account...)
	if err != nil {
		return nil, err
	}
	if s.data != "" {
		logRecovery(s.log, s.data, acct.Recovery())
	}
	if s.iamPath != "" {
		if err := loadIAM(acct, s.iamPath); err != nil {
			acct.Close()
			return nil, err
		}
	}
	return acct, nil
}

// stopServing stops listening and lets in-flight requests finish, for at
// most timeout; err is an error the server already returned.
func stopServing(srv *http.Server, timeout time.Duration, log *slog.Logger, err error) error {
	if err != nil {
		return err
	}
	srv.SetKeepAlivesEnabled(false)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err = srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("requests still in flight at the shutdown timeout: closing their connections")
		err = srv.Close()
	}
	return err
}

// logRecovery reports what opening the data directory found: damage as a
// warning, since the server serves what survived.
func logRecovery(log *slog.Logger, dir string, r shardlog.RecoveryReport) {
	log.Info("opened data directory", "dir", dir, "streams", r.Streams, "shards", r.Shards,
		"files", r.Files, "records", r.Records, "took", r.Duration)
	for _, t := range r.TornTails {
		log.Warn("cut a torn segment file at its last whole record", "stream", t.Stream, "shard", t.ShardID,
			"file", t.File, "offset", t.Offset, "records", t.Records)
	}
	for _, c := range r.Corrupt {
		args := []any{"stream", c.Stream, "shard", c.ShardID, "file", c.File, "err", c.Err}
		if c.Records > 0 {
			args = append(args, "records", c.Records, "first", c.First, "last", c.Last)
		}
		log.Warn("damaged records: reading them fails", args...)
	}
}
