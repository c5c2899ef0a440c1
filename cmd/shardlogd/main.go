// Command shardlogd serves the Kinesis Data Streams API on a local address,
// for AWS SDKs, the AWS CLI and Kinesis tools in any language:
//
//	go run ./cmd/shardlogd -addr 127.0.0.1:4567
//	aws --endpoint-url http://127.0.0.1:4567 kinesis list-streams
//
// State lives in memory and is lost on exit, unless -data names a
// directory: then streams, records, consumers and tags survive a restart, a
// kill -9 and (with the default -sync always) a power loss. Any credentials
// are accepted.
//
// No client can exhaust the server: record memory is capped for the whole
// account (-max-bytes, -max-records; the oldest records go first), request
// bodies are capped in size and in the memory they hold at once, slow
// bodies, slow readers and idle connections time out, connections are
// capped (the longest idle is closed to make room), and requests that
// arrive on a loopback address must name a loopback host. -h lists the
// flags and their defaults.
//
// Each port speaks HTTP/1.1 and HTTP/2: in cleartext HTTP/2 needs prior
// knowledge (as the JavaScript SDK v3 has); with -tls-cert and -tls-key, or
// -tls-self-signed for local use, the server speaks HTTPS and negotiates
// HTTP/2 by ALPN.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/kinesisapi"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "shardlogd:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, printing the endpoint to stdout when ready
// (and, for a self-signed certificate, its fingerprint on the next line).
func run(ctx context.Context, args []string, stdout io.Writer) error {
	return runLogging(ctx, args, stdout, os.Stderr)
}

// runLogging is run with the log going to stderr.
func runLogging(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("shardlogd", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:4567", "address to listen on")
	region := fs.String("region", envOr("AWS_REGION", "us-east-1"), "region in ARNs")
	account := fs.String("account-id", envOr("AWS_ACCOUNT_ID", "000000000000"), "12-digit account ID in ARNs")
	shardLimit := fs.Int("shard-limit", 20000, "open shards allowed in the account")
	limits := fs.Bool("limits", true, "enforce per-shard throughput limits (1 MiB/s and 1000 records/s writes, 5 calls/s and 2 MiB/s reads)")
	controlLimits := fs.Bool("control-plane-limits", true, "with -limits, enforce Kinesis's per-operation call rates too (CreateStream 5/s per account, ListShards 1000/s per stream, GetShardIterator 5/s per shard, ...)")
	createDelay := fs.Duration("create-delay", 0, "time a stream stays CREATING")
	deleteDelay := fs.Duration("delete-delay", 0, "time a stream stays DELETING")
	updateDelay := fs.Duration("update-delay", 0, "time a stream stays UPDATING after a reshard or change")
	consumerDelay := fs.Duration("consumer-delay", 0, "time a consumer stays CREATING or DELETING")
	retention := fs.Duration("retention", shardlog.DefaultRetention, "retention period new streams start with")
	maxRecord := fs.Int("max-record-size", 1<<20, "largest record in bytes, data plus partition key (1 MiB to 10 MiB)")
	heartbeat := fs.Duration("heartbeat", 5*time.Second, "interval of empty SubscribeToShard events while idle")
	janitor := fs.Duration("janitor", time.Minute, "how often idle shards drop expired records (0: only when used)")
	logLevel := fs.String("log-level", "info", "debug (every request), info (requests sampled), warn or error")
	logFormat := fs.String("log-format", "text", "text or json")
	logRate := fs.Int("log-requests", 100, "requests logged per second at info level (more are counted, not logged)")
	pprofOn := fs.Bool("pprof", false, "serve Go's profiler at /debug/pprof/ (GET)")
	shutdownTimeout := fs.Duration("shutdown-timeout", 10*time.Second, "time in-flight requests have to finish on shutdown")
	data := fs.String("data", "", "directory that keeps the account across restarts (empty: memory only)")
	syncPolicy := shardlog.SyncAlways
	fs.TextVar(&syncPolicy, "sync", shardlog.SyncAlways, "with -data, when writes reach stable storage: always (before they are acknowledged), none (left to the system), or a duration such as 100ms (in the background, at most that far apart)")
	// Bounds on what clients can make the server hold.
	maxBytes := fs.Int64("max-bytes", 1<<30, "record bytes (keys and data) the account holds before dropping its oldest records (0: no bound); with -data, no bound unless given")
	maxRecords := fs.Int64("max-records", 16<<20, "records the account holds before dropping its oldest (0: no bound); with -data, no bound unless given")
	streamBytes := fs.Int64("max-stream-bytes", 0, "record bytes one stream holds before dropping its oldest records (0: no bound)")
	streamRecords := fs.Int64("max-stream-records", 0, "records one stream holds before dropping its oldest (0: no bound)")
	maxConns := fs.Int("max-conns", 1024, "connections open at once (lowered to fit the open-file limit)")
	maxRequest := fs.Int64("max-request-bytes", kinesisapi.DefaultMaxRequestBytes, "largest request body")
	requestMemory := fs.Int64("max-request-memory", kinesisapi.DefaultMaxRequestMemory, "memory requests may hold at once, counted as twice their bodies")
	headerTimeout := fs.Duration("header-timeout", 10*time.Second, "time a client may take to send request headers")
	bodyTimeout := fs.Duration("body-timeout", kinesisapi.DefaultBodyTimeout, "time a client may take to send a request body")
	writeTimeout := fs.Duration("write-timeout", kinesisapi.DefaultWriteTimeout, "time a client may take to receive a response or one SubscribeToShard event")
	idleTimeout := fs.Duration("idle-timeout", 60*time.Second, "time an idle keep-alive connection stays open")
	var hosts hostList
	fs.Var(&hosts, "allow-host", "a host name requests on loopback may use besides localhost and loopback IPs (repeatable)")
	var tlsf tlsFlags
	fs.StringVar(&tlsf.cert, "tls-cert", "", "PEM certificate file: serve HTTPS (HTTP/2 and HTTP/1.1) instead of cleartext")
	fs.StringVar(&tlsf.key, "tls-key", "", "PEM private key file of -tls-cert")
	fs.BoolVar(&tlsf.selfSigned, "tls-self-signed", false, "serve HTTPS with a new self-signed certificate for localhost, loopback IPs and -allow-host names, and print its SHA-256 fingerprint; with -tls-cert and -tls-key, write it there for clients to trust")
	maxStreams := fs.Int("max-streams-per-conn", 100, "HTTP/2 requests one connection may have in flight")
	kmsKeys := fs.String("kms-keys", os.Getenv("SHARDLOG_KMS_KEYS"), "JSON file of KMS master keys (see shardlog.LoadKeyRing): with it, StartStreamEncryption seals records at rest; default $SHARDLOG_KMS_KEYS")
	iamPath := fs.String("iam", "", "JSON file of principals, their policies and access keys: with it, requests must be signed (SigV4) by one of the keys and its principal's IAM policies decide each call")
	allowUnsigned := fs.Bool("allow-unsigned", false, "without -iam, serve requests that carry no signature at all (curl); otherwise, as on AWS, a request needs SigV4 credentials (any will do without -iam)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data != "" {
		// A durable server keeps what it acknowledged: it drops records for
		// a bound only when told to (the defaults protect memory).
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		if !given["max-bytes"] {
			*maxBytes = 0
		}
		if !given["max-records"] {
			*maxRecords = 0
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return err
	}
	var log *slog.Logger
	switch *logFormat {
	case "text":
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	case "json":
		log = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	default:
		return fmt.Errorf("-log-format %q: want text or json", *logFormat)
	}
	if *logRate < 0 {
		return fmt.Errorf("-log-requests %d is negative", *logRate)
	}

	opts := []shardlog.Option{
		shardlog.WithRegion(*region),
		shardlog.WithAccountID(*account),
		shardlog.WithShardLimit(*shardLimit),
		shardlog.WithDelays(shardlog.Delays{Create: *createDelay, Delete: *deleteDelay, Update: *updateDelay, RegisterConsumer: *consumerDelay, DeregisterConsumer: *consumerDelay}),
		shardlog.WithRetention(*retention),
		shardlog.WithMaxRecordSize(*maxRecord),
		shardlog.WithHeartbeat(*heartbeat),
	}
	switch {
	case !*limits:
		opts = append(opts, shardlog.WithoutLimits())
	case !*controlLimits:
		l := shardlog.AWSLimits()
		l.ControlPlaneRates = false
		opts = append(opts, shardlog.WithLimits(l))
	}
	if *janitor > 0 {
		opts = append(opts, shardlog.WithJanitor(*janitor))
	}
	opts = append(opts,
		shardlog.WithAccountSizeBound(shardlog.SizeBound{Bytes: *maxBytes, Records: *maxRecords}),
		shardlog.WithSizeBound(shardlog.SizeBound{Bytes: *streamBytes, Records: *streamRecords}))
	if *maxConns < 1 {
		return fmt.Errorf("-max-conns %d is below 1", *maxConns)
	}
	if *maxStreams < 1 {
		return fmt.Errorf("-max-streams-per-conn %d is below 1", *maxStreams)
	}
	var tlsConfig *tls.Config
	if tlsf.enabled() {
		var err error
		if tlsConfig, err = tlsf.config(hosts, time.Now()); err != nil {
			return err
		}
	}
	opts = append(opts, shardlog.WithLogger(log))
	if *data != "" {
		opts = append(opts, shardlog.WithDir(*data), shardlog.WithSync(syncPolicy))
	}
	if *iamPath != "" {
		opts = append(opts, shardlog.WithAccessControl())
	}
	if *kmsKeys != "" {
		ring, err := shardlog.LoadKeyRing(*kmsKeys)
		if err != nil {
			return err
		}
		opts = append(opts, shardlog.WithKeyRing(ring))
	}
	acct, err := shardlog.NewAccount(opts...)
	if err != nil {
		return err
	}
	defer acct.Close()
	if *data != "" {
		logRecovery(log, *data, acct.Recovery())
	}
	if *iamPath != "" {
		if err := loadIAM(acct, *iamPath); err != nil {
			return err
		}
	}

	tcp, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	conns := fitOpenFileLimit(*maxConns)
	ln := newLimitListener(tcp, conns)
	probes := &ops{pprof: *pprofOn, metrics: metricsHandler(acct, log)}
	drain, startDrain := context.WithCancel(context.Background())
	defer startDrain()
	hopts := []kinesisapi.Option{
		kinesisapi.WithDrain(drain),
		kinesisapi.WithRequestLog(requestLogger(log, *logRate)),
		kinesisapi.WithMaxRequestBytes(*maxRequest),
		kinesisapi.WithMaxRequestMemory(*requestMemory),
		kinesisapi.WithBodyTimeout(*bodyTimeout),
		kinesisapi.WithWriteTimeout(*writeTimeout),
		kinesisapi.WithAllowedHosts(hosts...),
	}
	if *allowUnsigned {
		hopts = append(hopts, kinesisapi.WithUnsignedRequests())
	}
	handler := kinesisapi.NewHandler(acct, hopts...)
	srv := &http.Server{
		Handler:           probes.wrap(handler),
		ReadHeaderTimeout: *headerTimeout,
		IdleTimeout:       *idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ConnState:         ln.connState,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		Protocols:         new(http.Protocols),
		// HTTP/2 connections are bounded like HTTP/1.1 ones: IdleTimeout
		// closes idle ones, and each carries a bounded number of requests.
		HTTP2:     &http.HTTP2Config{MaxConcurrentStreams: *maxStreams},
		TLSConfig: tlsConfig,
	}
	// HTTP/1.1 and HTTP/2 on one port: cleartext HTTP/2 with prior
	// knowledge (the JavaScript SDK's default on http:// endpoints), or
	// HTTP/2 negotiated by TLS.
	srv.Protocols.SetHTTP1(true)
	scheme := "http://"
	if tlsConfig != nil {
		srv.Protocols.SetHTTP2(true)
		scheme = "https://"
	} else {
		srv.Protocols.SetUnencryptedHTTP2(true)
	}
	errc := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	endpoint := scheme + ln.Addr().String()
	log.Info("serving Kinesis", "endpoint", endpoint, "region", *region, "account", *account, "limits", *limits,
		"max_bytes", *maxBytes, "max_records", *maxRecords, "max_conns", conns, "data", *data, "sync", syncPolicy)
	fmt.Fprintln(stdout, endpoint)
	if tlsf.selfSigned {
		// For clients to pin or compare, whatever the log level.
		fmt.Fprintln(stdout, "self-signed certificate SHA-256 fingerprint:", fingerprint(tlsConfig))
	}

	probes.ready.Store(true)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Gracefully: not ready any more; subscriptions end cleanly (clients
	// subscribe again elsewhere); in-flight requests finish; then the
	// account syncs and closes its store.
	log.Info("shutting down", "timeout", *shutdownTimeout)
	probes.ready.Store(false)
	startDrain()
	shutdown, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutdown)
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("requests still in flight at the shutdown timeout: closing their connections")
		err = srv.Close()
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

// hostList is a repeatable flag of host names.
type hostList []string

func (h *hostList) String() string     { return strings.Join(*h, ",") }
func (h *hostList) Set(v string) error { *h = append(*h, strings.Split(v, ",")...); return nil }

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
