// Command shardlog-agent tails log files into streams, as the Kinesis
// Agent does, with its agent.json (see package agent): into an embedded
// durable account (-data), or to shardlogd or Amazon Kinesis, at the
// configuration's kinesis.endpoint and kinesis.region.
//
//	shardlog-agent -c /etc/aws-kinesis-agent/agent.json
//	shardlog-agent -c agent.json -data /var/lib/shardlog
//	shardlog-agent -c agent.json -metrics 127.0.0.1:9101
//
// Credentials are the configuration's awsAccessKeyId and
// awsSecretAccessKey, or else AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN. SIGINT or SIGTERM stops it: what was read is sent and
// checkpointed first, for up to ten seconds. With -metrics, the agent's
// metrics (see prom.NewAgentCollector) are served for Prometheus.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/agent"
	"github.com/shardlog/shardlog/aws"
	"github.com/shardlog/shardlog/prom"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "shardlog-agent:", err)
		os.Exit(1)
	}
}

// run runs the agent until ctx ends.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("shardlog-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("c", "/etc/aws-kinesis-agent/agent.json", "the agent.json to run")
	fs.StringVar(configFile, "configuration", *configFile, "the same as -c")
	data := fs.String("data", "", "send to streams of an embedded durable account in this directory, not to kinesis.endpoint")
	metrics := fs.String("metrics", "", "serve the agent's metrics for Prometheus at GET /metrics on this address (e.g. 127.0.0.1:9101)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	b, err := os.ReadFile(*configFile)
	if err != nil {
		return err
	}
	cfg, err := agent.ParseConfig(b)
	if err != nil {
		return err
	}
	if cfg.CheckpointFile == "" {
		cfg.CheckpointFile = "/var/run/aws-kinesis-agent/checkpoints" // the Kinesis Agent's
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	var streams agent.Streams
	if *data != "" {
		acct, err := shardlog.NewAccount(shardlog.WithDir(*data), shardlog.WithLogger(log))
		if err != nil {
			return err
		}
		defer acct.Close()
		streams = func(ctx context.Context, name string) (shardlog.StreamAPI, error) {
			s, err := acct.Stream(shardlog.StreamRef{StreamName: name})
			if errors.Is(err, shardlog.ErrResourceNotFound) {
				s, err = acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: name, ShardCount: 1})
			}
			return s, err
		}
	} else {
		client := kinesis.New(kinesisOptions(cfg))
		streams = func(ctx context.Context, name string) (shardlog.StreamAPI, error) {
			return aws.Open(ctx, client, shardlog.StreamRef{StreamName: name})
		}
	}
	a, err := agent.New(ctx, cfg, streams, agent.Options{Logger: log})
	if err != nil {
		return err
	}
	if *metrics != "" {
		stop, err := serveMetrics(*metrics, a, log)
		if err != nil {
			a.Close(ctx)
			return err
		}
		defer stop()
	}
	log.Info("shardlog-agent: started", "flows", len(cfg.Flows), "checkpoints", cfg.CheckpointFile)
	return a.Run(ctx)
}

// serveMetrics serves a's metrics at GET /metrics on addr until stop.
func serveMetrics(addr string, a *agent.Agent, log *slog.Logger) (stop func(), err error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prom.NewAgentCollector(a))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-metrics: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			log.Error("shardlog-agent: metrics server", "err", err)
		}
	}()
	log.Info("shardlog-agent: metrics", "addr", l.Addr().String())
	return func() { srv.Close(); <-done }, nil
}

// kinesisOptions are the Kinesis client's options of cfg.
func kinesisOptions(cfg agent.Config) kinesis.Options {
	region := cfg.KinesisRegion
	if region == "" {
		region = "us-east-1" // the Kinesis Agent's default
	}
	o := kinesis.Options{Region: region}
	if cfg.KinesisEndpoint != "" {
		o.BaseEndpoint = sdk.String(cfg.KinesisEndpoint)
	}
	key, secret, token := cfg.AWSAccessKeyID, cfg.AWSSecretAccessKey, ""
	if key == "" {
		key, secret, token = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")
	}
	if key != "" {
		o.Credentials = credentials.NewStaticCredentialsProvider(key, secret, token)
	}
	return o
}
