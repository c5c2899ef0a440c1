// Command shardlog-agent tails log files into streams, as the Kinesis
// Agent does, with its agent.json (see package agent): into an embedded
// durable account (-data), or to shardlogd or Amazon Kinesis, at the
// configuration's kinesis.endpoint and kinesis.region.
//
//	shardlog-agent -c /etc/aws-kinesis-agent/agent.json
//	shardlog-agent -c agent.json -data /var/lib/shardlog
//
// Credentials are the configuration's awsAccessKeyId and
// awsSecretAccessKey, or else AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN. SIGINT or SIGTERM stops it: what was read is sent and
// checkpointed first, for up to ten seconds.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/agent"
	"github.com/shardlog/shardlog/aws"
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
	log.Info("shardlog-agent: started", "flows", len(cfg.Flows), "checkpoints", cfg.CheckpointFile)
	return a.Run(ctx)
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
