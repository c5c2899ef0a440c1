package firehoseapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shardlog/shardlog"
	delivery "github.com/shardlog/shardlog/firehose"
	"github.com/shardlog/shardlog/firehoseapi"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	ctx   = context.Background()
	quiet = slog.New(slog.DiscardHandler)
	t0    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// rig serves Firehose's API over a fresh account on a manual clock, with
// the real SDK client pointed at it.
type rig struct {
	t       *testing.T
	clk     *shardlog.ManualClock
	kinesis *shardlog.Account
	buckets string
	dir     string
	lambdas map[string]string
	srv     *firehoseapi.Server
	http    *httptest.Server
	c       *firehose.Client
}

func newRig(t *testing.T, dir string) *rig {
	t.Helper()
	r := &rig{t: t, clk: shardlog.NewManualClock(t0), buckets: t.TempDir(), dir: dir}
	var err error
	r.kinesis, err = shardlog.NewAccount(shardlog.WithClock(r.clk), shardlog.WithoutLimits(), shardlog.WithAccountID("123456789012"), shardlog.WithLogger(quiet))
	require.NoError(t, err)
	t.Cleanup(func() { r.kinesis.Close() })
	r.open()
	return r
}

// open starts a Server over the rig's account and directories.
func (r *rig) open() {
	var err error
	r.srv, err = firehoseapi.New(firehoseapi.Config{Kinesis: r.kinesis, Buckets: r.buckets, Dir: r.dir,
		PlainHTTPEndpoints: true, UnsignedRequests: true, Lambdas: r.lambdas, Logger: quiet})
	require.NoError(r.t, err)
	r.http = newServer(r.t, r.srv)
	r.c = client(r.http.URL)
}

// newServer serves srv on loopback until the test ends.
func newServer(t *testing.T, srv *firehoseapi.Server) *httptest.Server {
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	return hs
}

// client is the SDK's Firehose client for url, retries off.
func client(url string) *firehose.Client {
	return firehose.New(firehose.Options{
		BaseEndpoint:     aws.String(url),
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1,
	})
}

// restart closes the Server and opens another over the same directories.
func (r *rig) restart() {
	r.http.Close()
	require.NoError(r.t, r.srv.Close())
	r.open()
}

// await advances the clock a step at a time until cond holds.
func (r *rig) await(step time.Duration, cond func() bool) {
	r.t.Helper()
	require.Eventually(r.t, func() bool {
		if cond() {
			return true
		}
		r.clk.Advance(step)
		return false
	}, 20*time.Second, time.Millisecond)
}

// objects returns the files under dir, by key, read whole.
func objects(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	_ = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			return nil
		}
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	return out
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func s3Config(bucket string) *types.ExtendedS3DestinationConfiguration {
	return &types.ExtendedS3DestinationConfiguration{
		BucketARN:      aws.String("arn:aws:s3:::" + bucket),
		RoleARN:        aws.String("arn:aws:iam::123456789012:role/firehose"),
		BufferingHints: &types.BufferingHints{IntervalInSeconds: aws.Int32(60), SizeInMBs: aws.Int32(1)},
		Prefix:         aws.String("events/"),
	}
}

// TestDirectPutLifecycle: create, describe, list, put, deliver to the
// bucket's folder, delete — through the SDK.
func TestDirectPutLifecycle(t *testing.T) {
	r := newRig(t, "")
	out, err := r.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName:                 aws.String("clicks"),
		ExtendedS3DestinationConfiguration: s3Config("lake"),
		Tags:                               []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	})
	require.NoError(t, err)
	require.Equal(t, "arn:aws:firehose:us-east-1:123456789012:deliverystream/clicks", *out.DeliveryStreamARN)

	d, err := r.c.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("clicks")})
	require.NoError(t, err)
	desc := d.DeliveryStreamDescription
	require.Equal(t, types.DeliveryStreamStatusActive, desc.DeliveryStreamStatus)
	require.Equal(t, types.DeliveryStreamTypeDirectPut, desc.DeliveryStreamType)
	require.Equal(t, "1", *desc.VersionId)
	require.True(t, t0.Equal(*desc.CreateTimestamp))
	require.False(t, *desc.HasMoreDestinations)
	require.Equal(t, types.DeliveryStreamEncryptionStatusDisabled, desc.DeliveryStreamEncryptionConfiguration.Status)
	require.Len(t, desc.Destinations, 1)
	dest := desc.Destinations[0]
	require.Equal(t, "destinationId-000000000001", *dest.DestinationId)
	ext := dest.ExtendedS3DestinationDescription
	require.Equal(t, "arn:aws:s3:::lake", *ext.BucketARN)
	require.Equal(t, types.CompressionFormatUncompressed, ext.CompressionFormat)
	require.Equal(t, int32(60), *ext.BufferingHints.IntervalInSeconds)
	require.Equal(t, types.NoEncryptionConfigNoEncryption, ext.EncryptionConfiguration.NoEncryptionConfig)
	require.Equal(t, types.S3BackupModeDisabled, ext.S3BackupMode)

	list, err := r.c.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{})
	require.NoError(t, err)
	require.Equal(t, []string{"clicks"}, list.DeliveryStreamNames)
	require.False(t, *list.HasMoreDeliveryStreams)

	one, err := r.c.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("clicks"), Record: &types.Record{Data: []byte("a\n")}})
	require.NoError(t, err)
	require.NotEmpty(t, *one.RecordId)
	batch, err := r.c.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("clicks"),
		Records: []types.Record{{Data: []byte("b\n")}, {Data: []byte("c\n")}}})
	require.NoError(t, err)
	require.Zero(t, *batch.FailedPutCount)
	require.Len(t, batch.RequestResponses, 2)

	lake := filepath.Join(r.buckets, "lake")
	r.await(time.Second, func() bool { return len(objects(t, lake)) == 1 })
	for key, body := range objects(t, lake) {
		require.Regexp(t, `^events/2026/03/01/12/clicks-1-2026-03-01-12-0\d-\d\d-[0-9a-f-]{36}$`, key)
		require.Equal(t, "a\nb\nc\n", body)
	}

	_, err = r.c.DeleteDeliveryStream(ctx, &firehose.DeleteDeliveryStreamInput{DeliveryStreamName: aws.String("clicks")})
	require.NoError(t, err)
	_, err = r.c.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("clicks")})
	var nf *types.ResourceNotFoundException
	require.ErrorAs(t, err, &nf)
	require.Equal(t, "Firehose clicks under account 123456789012 not found.", *nf.Message)
	_, err = r.c.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("clicks"), Record: &types.Record{Data: []byte("x")}})
	require.ErrorAs(t, err, &nf)
}

// TestKinesisSource: a KinesisStreamAsSource delivery stream delivers what
// the stream takes after its creation, and refuses direct puts.
func TestKinesisSource(t *testing.T) {
	r := newRig(t, "")
	s, err := r.kinesis.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 2})
	require.NoError(t, err)
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("before\n")})
	require.NoError(t, err)
	r.clk.Advance(time.Second)
	_, err = r.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("orders-to-lake"),
		DeliveryStreamType: types.DeliveryStreamTypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: &types.KinesisStreamSourceConfiguration{
			KinesisStreamARN: aws.String(r.kinesis.StreamARN("orders")), RoleARN: aws.String("arn:aws:iam::123456789012:role/r")},
		ExtendedS3DestinationConfiguration: s3Config("lake"),
	})
	require.NoError(t, err)
	r.clk.Advance(time.Second)
	for _, k := range []string{"a", "b", "c", "d"} {
		_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: k, Data: []byte(k + "\n")})
		require.NoError(t, err)
	}
	d, err := r.c.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("orders-to-lake")})
	require.NoError(t, err)
	src := d.DeliveryStreamDescription.Source.KinesisStreamSourceDescription
	require.Equal(t, r.kinesis.StreamARN("orders"), *src.KinesisStreamARN)
	require.True(t, t0.Add(time.Second).Equal(*src.DeliveryStartTimestamp))

	lake := filepath.Join(r.buckets, "lake")
	var lines []string
	r.await(time.Second, func() bool {
		lines = nil
		for _, body := range objects(t, lake) {
			lines = append(lines, strings.Fields(body)...)
		}
		return len(lines) >= 4
	})
	sort.Strings(lines)
	require.Equal(t, []string{"a", "b", "c", "d"}, lines, "nothing from before the creation")

	_, err = r.c.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("orders-to-lake"), Record: &types.Record{Data: []byte("x")}})
	var bad *types.InvalidArgumentException
	require.ErrorAs(t, err, &bad)
	require.Equal(t, "This operation is not permitted on KinesisStreamAsSource delivery stream type.", *bad.Message)
}

// TestSurvivesRestart: with a Dir, delivery streams and the records they
// took but did not deliver outlive the Server.
func TestSurvivesRestart(t *testing.T) {
	r := newRig(t, t.TempDir())
	_, err := r.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("clicks"), ExtendedS3DestinationConfiguration: s3Config("lake")})
	require.NoError(t, err)
	_, err = r.c.TagDeliveryStream(ctx, &firehose.TagDeliveryStreamInput{DeliveryStreamName: aws.String("clicks"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}}})
	require.NoError(t, err)
	_, err = r.c.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("clicks"), Record: &types.Record{Data: []byte("kept\n")}})
	require.NoError(t, err)
	r.restart()

	tags, err := r.c.ListTagsForDeliveryStream(ctx, &firehose.ListTagsForDeliveryStreamInput{DeliveryStreamName: aws.String("clicks")})
	require.NoError(t, err)
	require.Len(t, tags.Tags, 1)
	require.Equal(t, "web", *tags.Tags[0].Value)
	lake := filepath.Join(r.buckets, "lake")
	var bodies string
	r.await(time.Second, func() bool {
		bodies = ""
		for _, b := range objects(t, lake) {
			bodies += b
		}
		return strings.Contains(bodies, "kept\n")
	})
}

// TestUpdateDestination: the version must match and grows; new objects
// carry it in their names and follow the new prefix.
func TestUpdateDestination(t *testing.T) {
	r := newRig(t, "")
	_, err := r.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("clicks"), ExtendedS3DestinationConfiguration: s3Config("lake")})
	require.NoError(t, err)
	_, err = r.c.UpdateDestination(ctx, &firehose.UpdateDestinationInput{DeliveryStreamName: aws.String("clicks"),
		CurrentDeliveryStreamVersionId: aws.String("7"), DestinationId: aws.String("destinationId-000000000001"),
		ExtendedS3DestinationUpdate: &types.ExtendedS3DestinationUpdate{Prefix: aws.String("v2/")}})
	var cm *types.ConcurrentModificationException
	require.ErrorAs(t, err, &cm)
	_, err = r.c.UpdateDestination(ctx, &firehose.UpdateDestinationInput{DeliveryStreamName: aws.String("clicks"),
		CurrentDeliveryStreamVersionId: aws.String("1"), DestinationId: aws.String("destinationId-000000000001"),
		ExtendedS3DestinationUpdate: &types.ExtendedS3DestinationUpdate{Prefix: aws.String("v2/")}})
	require.NoError(t, err)
	d, err := r.c.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("clicks")})
	require.NoError(t, err)
	require.Equal(t, "2", *d.DeliveryStreamDescription.VersionId)
	ext := d.DeliveryStreamDescription.Destinations[0].ExtendedS3DestinationDescription
	require.Equal(t, "v2/", *ext.Prefix)
	require.Equal(t, int32(60), *ext.BufferingHints.IntervalInSeconds, "members not updated stay")

	_, err = r.c.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("clicks"), Record: &types.Record{Data: []byte("x\n")}})
	require.NoError(t, err)
	lake := filepath.Join(r.buckets, "lake")
	r.await(time.Second, func() bool { return len(objects(t, lake)) == 1 })
	for key := range objects(t, lake) {
		require.Regexp(t, `^v2/2026/03/01/12/clicks-2-`, key)
	}
}

// TestHTTPEndpointAndEncryption: an HttpEndpoint destination gets
// Firehose's requests; encryption shows in the answers.
func TestHTTPEndpointAndEncryption(t *testing.T) {
	got := make(chan string, 10)
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		got <- req.Header.Get("X-Amz-Firehose-Access-Key")
		id := req.Header.Get("X-Amz-Firehose-Request-Id")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"requestId":"` + id + `","timestamp":1}`))
	}))
	defer endpoint.Close()
	r := newRig(t, "")
	_, err := r.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("hook"),
		HttpEndpointDestinationConfiguration: &types.HttpEndpointDestinationConfiguration{
			EndpointConfiguration: &types.HttpEndpointConfiguration{Url: aws.String(endpoint.URL), AccessKey: aws.String("secret")},
			BufferingHints:        &types.HttpEndpointBufferingHints{IntervalInSeconds: aws.Int32(0), SizeInMBs: aws.Int32(1)},
			S3Configuration: &types.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::backup"),
				RoleARN: aws.String("arn:aws:iam::123456789012:role/r")},
		},
		DeliveryStreamEncryptionConfigurationInput: &types.DeliveryStreamEncryptionConfigurationInput{KeyType: types.KeyTypeAwsOwnedCmk},
	})
	require.NoError(t, err)
	d, err := r.c.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("hook")})
	require.NoError(t, err)
	h := d.DeliveryStreamDescription.Destinations[0].HttpEndpointDestinationDescription
	require.Equal(t, endpoint.URL, *h.EndpointConfiguration.Url)
	require.Equal(t, types.HttpEndpointS3BackupModeFailedDataOnly, h.S3BackupMode)
	require.Equal(t, "arn:aws:s3:::backup", *h.S3DestinationDescription.BucketARN)
	require.Equal(t, types.DeliveryStreamEncryptionStatusEnabled, d.DeliveryStreamDescription.DeliveryStreamEncryptionConfiguration.Status)

	out, err := r.c.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("hook"), Record: &types.Record{Data: []byte("{}")}})
	require.NoError(t, err)
	require.True(t, *out.Encrypted)
	r.await(time.Second, func() bool { return len(got) > 0 })
	require.Equal(t, "secret", <-got)

	_, err = r.c.StopDeliveryStreamEncryption(ctx, &firehose.StopDeliveryStreamEncryptionInput{DeliveryStreamName: aws.String("hook")})
	require.NoError(t, err)
	out, err = r.c.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("hook"), Record: &types.Record{Data: []byte("{}")}})
	require.NoError(t, err)
	require.False(t, *out.Encrypted)
}

// TestDynamicPartitioning: a MetadataExtraction query and
// AppendDelimiterToRecord, as the console and the CLI configure them,
// partition JSON records into folders; the switch cannot be flipped later.
func TestDynamicPartitioning(t *testing.T) {
	r := newRig(t, "")
	cfg := s3Config("lake")
	cfg.Prefix = aws.String("events/customer=!{partitionKeyFromQuery:customer}/")
	cfg.ErrorOutputPrefix = aws.String("errors/!{firehose:error-output-type}/")
	cfg.DynamicPartitioningConfiguration = &types.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)}
	cfg.ProcessingConfiguration = &types.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []types.Processor{
		{Type: types.ProcessorTypeMetadataExtraction, Parameters: []types.ProcessorParameter{
			{ParameterName: types.ProcessorParameterNameMetadataExtractionQuery, ParameterValue: aws.String("{customer:.customer_id}")},
			{ParameterName: types.ProcessorParameterNameJsonParsingEngine, ParameterValue: aws.String("JQ-1.6")}}},
		{Type: types.ProcessorTypeAppendDelimiterToRecord},
	}}
	_, err := r.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("parts"), ExtendedS3DestinationConfiguration: cfg})
	require.NoError(t, err)
	_, err = r.c.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("parts"), Records: []types.Record{
		{Data: []byte(`{"customer_id":"a","n":1}`)}, {Data: []byte(`{"customer_id":"b","n":2}`)}, {Data: []byte(`{"customer_id":"a","n":3}`)}, {Data: []byte(`oops`)}}})
	require.NoError(t, err)
	lake := filepath.Join(r.buckets, "lake")
	r.await(time.Second, func() bool { return len(objects(t, lake)) == 3 })
	byDir := map[string]string{}
	for key, body := range objects(t, lake) {
		byDir[key[:strings.LastIndexByte(key, '/')]] += body
	}
	require.Equal(t, map[string]string{
		"events/customer=a":                      "{\"customer_id\":\"a\",\"n\":1}\n{\"customer_id\":\"a\",\"n\":3}\n",
		"events/customer=b":                      "{\"customer_id\":\"b\",\"n\":2}\n",
		"errors/processing-failed/2026/03/01/12": byDir["errors/processing-failed/2026/03/01/12"],
	}, byDir)
	require.Contains(t, byDir["errors/processing-failed/2026/03/01/12"], "DynamicPartitioning.MetadataExtractionFailed")

	d, err := r.c.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("parts")})
	require.NoError(t, err)
	ext := d.DeliveryStreamDescription.Destinations[0].ExtendedS3DestinationDescription
	require.True(t, *ext.DynamicPartitioningConfiguration.Enabled)
	require.Equal(t, int32(300), *ext.DynamicPartitioningConfiguration.RetryOptions.DurationInSeconds)
	require.Len(t, ext.ProcessingConfiguration.Processors, 2)

	_, err = r.c.UpdateDestination(ctx, &firehose.UpdateDestinationInput{DeliveryStreamName: aws.String("parts"),
		CurrentDeliveryStreamVersionId: aws.String("1"), DestinationId: aws.String("destinationId-000000000001"),
		ExtendedS3DestinationUpdate: &types.ExtendedS3DestinationUpdate{DynamicPartitioningConfiguration: &types.DynamicPartitioningConfiguration{Enabled: aws.Bool(false)}}})
	require.Equal(t, "InvalidArgumentException", code(err))

	noDP := s3Config("lake")
	noDP.ProcessingConfiguration = cfg.ProcessingConfiguration
	_, err = r.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("x"), ExtendedS3DestinationConfiguration: noDP})
	require.Equal(t, "InvalidArgumentException", code(err))
	require.ErrorContains(t, err, "only supported when dynamic partitioning is enabled")
	badQuery := *cfg
	badQuery.ProcessingConfiguration = &types.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []types.Processor{
		{Type: types.ProcessorTypeMetadataExtraction, Parameters: []types.ProcessorParameter{
			{ParameterName: types.ProcessorParameterNameMetadataExtractionQuery, ParameterValue: aws.String("{customer: .a | ascii}")}}}}}
	_, err = r.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("y"), ExtendedS3DestinationConfiguration: &badQuery})
	require.Equal(t, "InvalidArgumentException", code(err))
	require.ErrorContains(t, err, "MetadataExtractionQuery")
}

// TestLambdaProcessing: a Lambda processor whose function has an
// invocation URL transforms records, as a function run by the Lambda
// Runtime Interface Emulator would; its qualified ARN finds it too.
func TestLambdaProcessing(t *testing.T) {
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var ev struct {
			DeliveryStreamArn string `json:"deliveryStreamArn"`
			Records           []struct {
				RecordID string `json:"recordId"`
				Data     []byte `json:"data"`
			} `json:"records"`
		}
		require.NoError(t, json.NewDecoder(req.Body).Decode(&ev))
		require.Equal(t, "arn:aws:firehose:us-east-1:123456789012:deliverystream/shout", ev.DeliveryStreamArn)
		type result struct {
			RecordID string `json:"recordId"`
			Result   string `json:"result"`
			Data     []byte `json:"data"`
		}
		var out []result
		for _, r := range ev.Records {
			out = append(out, result{r.RecordID, "Ok", bytes.ToUpper(r.Data)})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"records": out})
	}))
	defer fn.Close()
	r := &rig{t: t, clk: shardlog.NewManualClock(t0), buckets: t.TempDir(),
		lambdas: map[string]string{"arn:aws:lambda:us-east-1:123456789012:function:shout": fn.URL + "/2015-03-31/functions/function/invocations"}}
	var err error
	r.kinesis, err = shardlog.NewAccount(shardlog.WithClock(r.clk), shardlog.WithoutLimits(), shardlog.WithAccountID("123456789012"), shardlog.WithLogger(quiet))
	require.NoError(t, err)
	defer r.kinesis.Close()
	r.open()
	cfg := s3Config("lake")
	cfg.ProcessingConfiguration = &types.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []types.Processor{
		{Type: types.ProcessorTypeLambda, Parameters: []types.ProcessorParameter{
			{ParameterName: types.ProcessorParameterNameLambdaArn, ParameterValue: aws.String("arn:aws:lambda:us-east-1:123456789012:function:shout:$LATEST")}}}}}
	_, err = r.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("shout"), ExtendedS3DestinationConfiguration: cfg})
	require.NoError(t, err)
	_, err = r.c.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("shout"),
		Records: []types.Record{{Data: []byte("hello\n")}, {Data: []byte("world\n")}}})
	require.NoError(t, err)
	lake := filepath.Join(r.buckets, "lake")
	r.await(time.Second, func() bool { return len(objects(t, lake)) == 1 })
	for _, body := range objects(t, lake) {
		require.Equal(t, "HELLO\nWORLD\n", body)
	}
}

// memoryDest keeps objects in memory.
type memoryDest struct {
	mu      sync.Mutex
	objects map[string]string
}

func (m *memoryDest) Put(_ context.Context, key string, body []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.objects == nil {
		m.objects = map[string]string{}
	}
	m.objects[key] = string(body)
	return nil
}

func (m *memoryDest) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.objects)
}

// TestEmbeddedDestinations: an embedding program gives the buckets'
// destinations (real S3, say) and the Redshift destination (a database);
// the Redshift configuration reaches it whole, its password is never
// described, and its objects are staged in the S3 configuration's bucket.
func TestEmbeddedDestinations(t *testing.T) {
	clk := shardlog.NewManualClock(t0)
	acct, err := shardlog.NewAccount(shardlog.WithClock(clk), shardlog.WithoutLimits(), shardlog.WithAccountID("123456789012"), shardlog.WithLogger(quiet))
	require.NoError(t, err)
	defer acct.Close()
	buckets := map[string]*memoryDest{}
	var mu sync.Mutex
	var got firehoseapi.RedshiftConfig
	warehouse := &memoryDest{}
	srv, err := firehoseapi.New(firehoseapi.Config{Kinesis: acct, Buckets: t.TempDir(), UnsignedRequests: true, Logger: quiet,
		Bucket: func(name string) (delivery.Destination, error) {
			mu.Lock()
			defer mu.Unlock()
			if buckets[name] == nil {
				buckets[name] = &memoryDest{}
			}
			return buckets[name], nil
		},
		Redshift: func(c firehoseapi.RedshiftConfig) (delivery.Destination, error) {
			got = c
			return warehouse, nil
		}})
	require.NoError(t, err)
	c := client(newServer(t, srv).URL)
	_, err = c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("to-warehouse"),
		RedshiftDestinationConfiguration: &types.RedshiftDestinationConfiguration{
			RoleARN:        aws.String("arn:aws:iam::123456789012:role/r"),
			ClusterJDBCURL: aws.String("jdbc:redshift://examplecluster.abc123.us-east-1.redshift.amazonaws.com:5439/dev"),
			CopyCommand:    &types.CopyCommand{DataTableName: aws.String("events"), DataTableColumns: aws.String("id,name"), CopyOptions: aws.String("csv")},
			Username:       aws.String("loader"), Password: aws.String("s3cret-pw"),
			S3Configuration: &types.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::staging"), RoleARN: aws.String("arn:aws:iam::123456789012:role/r"),
				BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(60)}},
		}})
	require.NoError(t, err)
	require.Equal(t, firehoseapi.RedshiftConfig{ClusterJDBCURL: "jdbc:redshift://examplecluster.abc123.us-east-1.redshift.amazonaws.com:5439/dev",
		Username: "loader", Password: "s3cret-pw", DataTableName: "events", DataTableColumns: "id,name", CopyOptions: "csv", Staging: buckets["staging"]}, got)
	d, err := c.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("to-warehouse")})
	require.NoError(t, err)
	rs := d.DeliveryStreamDescription.Destinations[0].RedshiftDestinationDescription
	require.Equal(t, "loader", *rs.Username)
	require.Equal(t, int32(3600), *rs.RetryOptions.DurationInSeconds)
	require.Equal(t, "arn:aws:s3:::staging", *rs.S3DestinationDescription.BucketARN)
	raw, err := json.Marshal(d.DeliveryStreamDescription)
	require.NoError(t, err)
	require.NotContains(t, string(raw), "s3cret-pw")

	_, err = c.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("to-warehouse"), Record: &types.Record{Data: []byte("1,a\n")}})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		clk.Advance(time.Second)
		return warehouse.count() == 1
	}, 20*time.Second, time.Millisecond)
	for key, body := range warehouse.objects {
		require.Regexp(t, `^2026/03/01/12/to-warehouse-1-`, key)
		require.Equal(t, "1,a\n", body)
	}
}

// switchDest fails until it is turned on, then keeps objects in memory.
type switchDest struct {
	memoryDest
	on atomic.Bool
}

func (s *switchDest) Put(ctx context.Context, key string, body []byte) error {
	if !s.on.Load() {
		return errors.New("the destination is down")
	}
	return s.memoryDest.Put(ctx, key, body)
}

// TestBufferedBytesBound: direct-put records are kept within
// MaxBufferedBytes: while the destination takes them nothing is lost;
// while it is down past the bound the oldest undelivered are, and counted.
func TestBufferedBytesBound(t *testing.T) {
	clk := shardlog.NewManualClock(t0)
	acct, err := shardlog.NewAccount(shardlog.WithClock(clk), shardlog.WithoutLimits(), shardlog.WithAccountID("123456789012"), shardlog.WithLogger(quiet))
	require.NoError(t, err)
	defer acct.Close()
	lake := &switchDest{}
	lake.on.Store(true)
	srv, err := firehoseapi.New(firehoseapi.Config{Kinesis: acct, Buckets: t.TempDir(), UnsignedRequests: true, Logger: quiet, MaxBufferedBytes: 64 << 10,
		Bucket: func(string) (delivery.Destination, error) { return lake, nil }})
	require.NoError(t, err)
	c := client(newServer(t, srv).URL)
	cfg := s3Config("lake")
	cfg.BufferingHints = &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)}
	_, err = c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("d"), ExtendedS3DestinationConfiguration: cfg})
	require.NoError(t, err)
	put := func(n int) {
		for i := 0; i < n; i++ {
			_, err := c.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("d"), Record: &types.Record{Data: bytes.Repeat([]byte("x"), 8<<10)}})
			require.NoError(t, err)
		}
	}
	totals := func() delivery.Totals { return srv.DeliveryStreams()[0].Totals() }
	for range 32 { // 256 KiB through a 64 KiB bound, delivered as they come
		put(1)
		require.Eventually(t, func() bool { clk.Advance(time.Second); return totals().IncomingRecords == totals().DeliveredRecords },
			10*time.Second, time.Millisecond)
	}
	require.Zero(t, totals().Lost)

	lake.on.Store(false)
	put(16) // 128 KiB while the destination is down
	lake.on.Store(true)
	require.Eventually(t, func() bool {
		clk.Advance(10 * time.Minute) // past the retries' backoff
		tt := totals()
		return tt.Lost > 0 && tt.DeliveredRecords+tt.Lost >= 48
	}, 20*time.Second, time.Millisecond)
	tt := totals()
	require.Equal(t, int64(48), tt.DeliveredRecords+tt.Lost, "every record delivered or counted lost, none twice")
}

// TestEncryptionQuota: Start and Stop of a delivery stream's encryption
// count against Firehose's 25 a day; the 26th is LimitExceededException,
// and a day later there is room again.
func TestEncryptionQuota(t *testing.T) {
	r := newRig(t, "")
	_, err := r.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("d"), ExtendedS3DestinationConfiguration: s3Config("lake")})
	require.NoError(t, err)
	toggle := func(i int) error {
		if i%2 == 0 {
			_, err := r.c.StartDeliveryStreamEncryption(ctx, &firehose.StartDeliveryStreamEncryptionInput{DeliveryStreamName: aws.String("d")})
			return err
		}
		_, err := r.c.StopDeliveryStreamEncryption(ctx, &firehose.StopDeliveryStreamEncryptionInput{DeliveryStreamName: aws.String("d")})
		return err
	}
	for i := range 25 {
		require.NoError(t, toggle(i), "call %d", i+1)
		r.clk.Advance(time.Minute)
	}
	var limit *types.LimitExceededException
	require.ErrorAs(t, toggle(25), &limit)
	r.clk.Advance(24 * time.Hour)
	require.NoError(t, toggle(25))
}

// TestSourceGoneIsDescribed: a delivery stream whose Kinesis stream is
// deleted stops delivering, and says so in its description, not only in
// the log.
func TestSourceGoneIsDescribed(t *testing.T) {
	r := newRig(t, "")
	_, err := r.kinesis.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 1})
	require.NoError(t, err)
	_, err = r.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("from-orders"), DeliveryStreamType: types.DeliveryStreamTypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: &types.KinesisStreamSourceConfiguration{
			KinesisStreamARN: aws.String(r.kinesis.StreamARN("orders")), RoleARN: aws.String("arn:aws:iam::123456789012:role/r")},
		ExtendedS3DestinationConfiguration: s3Config("lake"),
	})
	require.NoError(t, err)
	describe := func() *types.FailureDescription {
		d, err := r.c.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("from-orders")})
		require.NoError(t, err)
		return d.DeliveryStreamDescription.FailureDescription
	}
	require.Nil(t, describe())
	require.NoError(t, r.kinesis.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "orders"}}))
	var f *types.FailureDescription
	r.await(time.Second, func() bool { f = describe(); return f != nil })
	require.Equal(t, types.DeliveryStreamFailureTypeUnknownError, f.Type)
	require.Contains(t, *f.Details, "orders")
}
