package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/cloudwatchapi"
	"github.com/shardlog/shardlog/firehoseapi"
	"github.com/shardlog/shardlog/internal/pgbin"
	"github.com/shardlog/shardlog/kinesisapi"
)

// settings are what the flags ask for, checked.
type settings struct {
	addr            string
	account         []shardlog.Option   // the account's options
	handler         []kinesisapi.Option // the API handler's, but for the drain
	cloudwatch      []cloudwatchapi.Option
	firehose        firehoseapi.Config // but for Kinesis and, without -buckets and -data, Buckets
	data            string             // data directory, "" for memory
	iamPath         string
	pprof           bool
	hosts           hostList
	tls             *tls.Config // nil: cleartext
	selfSigned      bool
	maxConns        int
	maxStreams      uint32
	headerTimeout   time.Duration
	idleTimeout     time.Duration
	drain           time.Duration
	shutdownTimeout time.Duration
	log             *slog.Logger
	summary         []any // what the "serving" log line says
	// open opens the account: shardlog.NewAccount, but in tests.
	open func(...shardlog.Option) (*shardlog.Account, error)
}

// parseFlags reads the command line; the log goes to stderr.
func parseFlags(args []string, stderr io.Writer) (*settings, error) {
	fs := flag.NewFlagSet("shardlogd", flag.ContinueOnError)
	fs.SetOutput(stderr)
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
	janitor := fs.Duration("janitor", time.Minute, "how often idle shards drop expired records and, with -data, let the memory of their records go (0: only when used)")
	logLevel := fs.String("log-level", "info", "debug (every request), info (requests sampled), warn or error")
	logFormat := fs.String("log-format", "text", "text or json")
	logRate := fs.Int("log-requests", 100, "requests logged per second at info level (more are counted, not logged)")
	pprofOn := fs.Bool("pprof", false, "serve Go's profiler at /debug/pprof/ (GET), to clients on loopback only")
	drain := fs.Duration("drain", 5*time.Second, "on SIGTERM or SIGINT, time to go on serving, with /readyz at 503 and connections closed after each response, before closing (a second signal ends it)")
	shutdownTimeout := fs.Duration("shutdown-timeout", 10*time.Second, "time in-flight requests have to finish once the drain is over")
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
	requestMemory := fs.Int64("max-request-memory", kinesisapi.DefaultMaxRequestMemory, "memory requests may hold at once, counted as twice their bodies as they arrive")
	clientMemory := fs.Int64("max-client-memory", kinesisapi.DefaultMaxClientMemory, "part of -max-request-memory the requests of one client address may hold (one connection: twice -max-request-bytes)")
	minUpload := fs.Int64("min-upload-rate", kinesisapi.DefaultMinUploadRate, "slowest a request body may arrive after -upload-grace, in bytes a second (0: any)")
	uploadGrace := fs.Duration("upload-grace", kinesisapi.DefaultUploadGrace, "time a request body may arrive at any pace")
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
	buckets := fs.String("buckets", "", "folder delivery streams' S3 destinations write to, one folder per bucket (default: <data>/buckets with -data, else a temporary folder removed at exit)")
	firehoseBytes := fs.Int64("firehose-max-bytes", 1<<30, "bytes of records direct-put delivery streams keep, all together; the oldest, normally delivered, go first (-1: no bound but their 24-hour retention)")
	redshift := map[string]string{}
	fs.Func("redshift-cluster", "`JDBC=URL`: a PostgreSQL database (postgres:// URL) that stands in for the Redshift cluster delivery streams name by JDBC URL, loaded with psql (repeatable)", func(v string) error {
		jdbc, conn, ok := strings.Cut(v, "=")
		u, err := url.Parse(conn)
		if !ok || !strings.HasPrefix(jdbc, "jdbc:") || err != nil || u.Scheme != "postgres" && u.Scheme != "postgresql" {
			return fmt.Errorf("%q is not JDBC=URL, such as jdbc:redshift://c.abc.us-east-1.redshift.amazonaws.com:5439/dev=postgres://127.0.0.1:5432/dev", v)
		}
		redshift[jdbc] = conn
		return nil
	})
	lambdas := map[string]string{}
	fs.Func("lambda", "`ARN=URL`: the invocation URL of a Lambda function delivery streams' processors name, such as the Lambda Runtime Interface Emulator's http://127.0.0.1:9000/2015-03-31/functions/function/invocations (repeatable)", func(v string) error {
		arn, url, ok := strings.Cut(v, "=")
		if !ok || !strings.HasPrefix(arn, "arn:") || !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
			return fmt.Errorf("%q is not ARN=URL, such as arn:aws:lambda:us-east-1:000000000000:function:f=http://127.0.0.1:9000/2015-03-31/functions/function/invocations", v)
		}
		lambdas[arn] = url
		return nil
	})
	plainEndpoints := fs.Bool("allow-http-endpoints", false, "let delivery streams deliver to http:// endpoints, which Firehose refuses (for endpoints on loopback)")
	allowUnsigned := fs.Bool("allow-unsigned", false, "without -iam, serve requests that carry no signature at all (curl); otherwise, as on AWS, a request needs SigV4 credentials (any will do without -iam)")
	if err := fs.Parse(args); err != nil {
		return nil, err
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
	log, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return nil, err
	}
	switch {
	case *logRate < 0:
		return nil, fmt.Errorf("-log-requests %d is negative", *logRate)
	case *maxConns < 1:
		return nil, fmt.Errorf("-max-conns %d is below 1", *maxConns)
	case *maxStreams < 1:
		return nil, fmt.Errorf("-max-streams-per-conn %d is below 1", *maxStreams)
	case *drain < 0:
		return nil, fmt.Errorf("-drain %v is negative", *drain)
	}

	s := &settings{
		addr: *addr, data: *data, iamPath: *iamPath, pprof: *pprofOn, hosts: hosts,
		selfSigned: tlsf.selfSigned, maxConns: fitOpenFileLimit(*maxConns), maxStreams: uint32(*maxStreams),
		headerTimeout: *headerTimeout, idleTimeout: *idleTimeout, drain: *drain, shutdownTimeout: *shutdownTimeout,
		log: log, open: shardlog.NewAccount,
	}
	s.account = []shardlog.Option{
		shardlog.WithRegion(*region),
		shardlog.WithAccountID(*account),
		shardlog.WithShardLimit(*shardLimit),
		shardlog.WithDelays(shardlog.Delays{Create: *createDelay, Delete: *deleteDelay, Update: *updateDelay, RegisterConsumer: *consumerDelay, DeregisterConsumer: *consumerDelay}),
		shardlog.WithRetention(*retention),
		shardlog.WithMaxRecordSize(*maxRecord),
		shardlog.WithHeartbeat(*heartbeat),
		shardlog.WithAccountSizeBound(shardlog.SizeBound{Bytes: *maxBytes, Records: *maxRecords}),
		shardlog.WithSizeBound(shardlog.SizeBound{Bytes: *streamBytes, Records: *streamRecords}),
		shardlog.WithLogger(log),
	}
	switch {
	case !*limits:
		s.account = append(s.account, shardlog.WithoutLimits())
	case !*controlLimits:
		l := shardlog.AWSLimits()
		l.ControlPlaneRates = false
		s.account = append(s.account, shardlog.WithLimits(l))
	}
	if *janitor > 0 {
		s.account = append(s.account, shardlog.WithJanitor(*janitor))
	}
	if *data != "" {
		s.account = append(s.account, shardlog.WithDir(*data), shardlog.WithSync(syncPolicy))
	}
	if *iamPath != "" {
		s.account = append(s.account, shardlog.WithAccessControl())
	}
	if *kmsKeys != "" {
		ring, err := shardlog.LoadKeyRing(*kmsKeys)
		if err != nil {
			return nil, err
		}
		s.account = append(s.account, shardlog.WithKeyRing(ring))
	}
	if tlsf.enabled() {
		if s.tls, err = tlsf.config(hosts, time.Now()); err != nil {
			return nil, err
		}
	}
	s.handler = []kinesisapi.Option{
		kinesisapi.WithRequestLog(requestLogger(log, *logRate)),
		kinesisapi.WithMaxRequestBytes(*maxRequest),
		kinesisapi.WithMaxRequestMemory(*requestMemory),
		kinesisapi.WithMaxClientMemory(*clientMemory),
		kinesisapi.WithMinUploadRate(*minUpload, *uploadGrace),
		kinesisapi.WithBodyTimeout(*bodyTimeout),
		kinesisapi.WithWriteTimeout(*writeTimeout),
		kinesisapi.WithAllowedHosts(hosts...),
	}
	s.cloudwatch = []cloudwatchapi.Option{cloudwatchapi.WithAllowedHosts(hosts...)}
	if *allowUnsigned {
		s.handler = append(s.handler, kinesisapi.WithUnsignedRequests())
		s.cloudwatch = append(s.cloudwatch, cloudwatchapi.WithUnsignedRequests())
	}
	s.firehose = firehoseapi.Config{Buckets: *buckets, PlainHTTPEndpoints: *plainEndpoints, UnsignedRequests: *allowUnsigned,
		AllowedHosts: hosts, Lambdas: lambdas, MaxBufferedBytes: *firehoseBytes, Logger: log}
	if len(redshift) > 0 {
		psql := pgbin.Find("psql")
		if psql == "" {
			return nil, errors.New("-redshift-cluster loads with PostgreSQL's psql, which is not installed (Debian: apt-get install postgresql-client)")
		}
		s.firehose.Redshift = clusters{dbs: redshift, psql: psql}.destination
	}
	if *data != "" {
		s.firehose.Dir = filepath.Join(*data, "firehose")
		s.firehose.AccountOptions = []shardlog.Option{shardlog.WithSync(syncPolicy)}
		if s.firehose.Buckets == "" {
			s.firehose.Buckets = filepath.Join(*data, "buckets")
		}
	}
	s.summary = []any{"region", *region, "account", *account, "limits", *limits,
		"max_bytes", *maxBytes, "max_records", *maxRecords, "max_conns", s.maxConns, "data", *data, "sync", syncPolicy}
	return s, nil
}

// newLogger makes the log of -log-level and -log-format.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, err
	}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})), nil
	}
	return nil, fmt.Errorf("-log-format %q: want text or json", format)
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
