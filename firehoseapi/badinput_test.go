package firehoseapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/firehoseapi"
)

// call sends a raw JSON request and returns the status and the error's
// __type and message (empty on success).
func (r *rig) call(op, body string) (int, string, string) {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.http.URL, strings.NewReader(body))
	require.NoError(r.t, err)
	req.Header.Set("X-Amz-Target", "Firehose_20150804."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(r.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(r.t, err)
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if resp.StatusCode != http.StatusOK {
		require.NoError(r.t, json.Unmarshal(b, &e), string(b))
	}
	return resp.StatusCode, e.Type, e.Message
}

const s3JSON = `"ExtendedS3DestinationConfiguration":{"BucketARN":"arn:aws:s3:::lake","RoleARN":"arn:aws:iam::123456789012:role/r"}`

// TestRefusals: every refusal in AWS's exception and words, and nothing
// made by a refused call.
func TestRefusals(t *testing.T) {
	r := newRig(t, "")
	long := strings.Repeat("a", 65)
	for _, tc := range []struct {
		op, body     string
		status       int
		code, prefix string
	}{
		{"CreateDeliveryStream", `{}`, 400, "ValidationException",
			"1 validation error detected: Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"a b",` + s3JSON + `}`, 400, "ValidationException",
			"1 validation error detected: Value 'a b' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"` + long + `","DeliveryStreamType":"Nope"}`, 400, "ValidationException",
			"2 validation errors detected: Value '" + long + "' at 'deliveryStreamName' failed to satisfy constraint: Member must have length less than or equal to 64; " +
				"Value 'Nope' at 'deliveryStreamType' failed to satisfy constraint: Member must satisfy enum value set: [MSKAsSource, KinesisStreamAsSource, DirectPut]"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{"BucketARN":"lake","BufferingHints":{"SizeInMBs":129,"IntervalInSeconds":-1}}}`, 400, "ValidationException",
			"4 validation errors detected: Value null at 'extendedS3DestinationConfiguration.roleARN' failed to satisfy constraint: Member must not be null; " +
				"Value 'lake' at 'extendedS3DestinationConfiguration.bucketARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:.*; " +
				"Value '129' at 'extendedS3DestinationConfiguration.bufferingHints.sizeInMBs' failed to satisfy constraint: Member must have value less than or equal to 128; " +
				"Value '-1' at 'extendedS3DestinationConfiguration.bufferingHints.intervalInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 0"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"x"}`, 400, "InvalidArgumentException", "Exactly one destination configuration must be specified."},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"x",` + s3JSON + `,"S3DestinationConfiguration":{"BucketARN":"arn:aws:s3:::b","RoleARN":"arn:aws:iam::1:role/r"}}`, 400,
			"InvalidArgumentException", "Exactly one destination configuration must be specified."},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"x","RedshiftDestinationConfiguration":{}}`, 400, "ValidationException",
			"4 validation errors detected: Value null at 'redshiftDestinationConfiguration.roleARN' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'redshiftDestinationConfiguration.clusterJDBCURL' failed to satisfy constraint: Member must not be null; "},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"x","RedshiftDestinationConfiguration":{"RoleARN":"arn:aws:iam::1:role/r",
			"ClusterJDBCURL":"jdbc:redshift://c.abc.us-east-1.redshift.amazonaws.com:5439/dev","CopyCommand":{"DataTableName":"t"},
			"S3Configuration":{"RoleARN":"arn:aws:iam::1:role/r","BucketARN":"arn:aws:s3:::b"}}}`, 400, "InvalidArgumentException",
			"RedshiftDestinationConfiguration: shardlog loads a database only when embedded with one"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{"BucketARN":"arn:aws:s3:::b","RoleARN":"arn:aws:iam::1:role/r","ProcessingConfiguration":{"Processors":[{"Type":"NotLambda"}]}}}`, 400, "ValidationException",
			"1 validation error detected: Value 'NotLambda' at 'extendedS3DestinationConfiguration.processingConfiguration.processors.1.member.type' failed to satisfy constraint: Member must satisfy enum value set: ["},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"x","DeliveryStreamType":"MSKAsSource",` + s3JSON + `}`, 400, "InvalidArgumentException",
			"DeliveryStreamType MSKAsSource: shardlog delivers from DirectPut and KinesisStreamAsSource sources."},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"x","DeliveryStreamType":"KinesisStreamAsSource",` + s3JSON + `}`, 400, "InvalidArgumentException",
			"KinesisSourceStreamConfig is required"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"x","DeliveryStreamType":"KinesisStreamAsSource","KinesisStreamSourceConfiguration":{"KinesisStreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/none","RoleARN":"arn:aws:iam::1:role/r"},` + s3JSON + `}`,
			400, "InvalidArgumentException", "The Kinesis stream arn:aws:kinesis:us-east-1:123456789012:stream/none could not be read"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{"BucketARN":"arn:aws:s3:::..","RoleARN":"arn:aws:iam::1:role/r"}}`, 400,
			"InvalidArgumentException", "BucketARN arn:aws:s3:::.. does not name an S3 bucket"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{"BucketARN":"arn:aws:s3:::b","RoleARN":"arn:aws:iam::1:role/r","ProcessingConfiguration":{"Enabled":true,"Processors":[{"Type":"Lambda"}]}}}`, 400,
			"InvalidArgumentException", "Lambda processor needs the parameter LambdaArn."},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{"BucketARN":"arn:aws:s3:::b","RoleARN":"arn:aws:iam::1:role/r","ProcessingConfiguration":{"Enabled":true,"Processors":[{"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"arn:aws:lambda:us-east-1:1:function:f"}]}]}}}`, 400,
			"InvalidArgumentException", "The Lambda function arn:aws:lambda:us-east-1:1:function:f has no invocation URL here"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{"BucketARN":"arn:aws:s3:::b","RoleARN":"arn:aws:iam::1:role/r","ProcessingConfiguration":{"Enabled":true,"Processors":[{"Type":"Decompression"}]}}}`, 400,
			"InvalidArgumentException", "ExtendedS3DestinationConfiguration.ProcessingConfiguration processor Decompression: shardlog runs Lambda (with an invocation URL), MetadataExtraction and AppendDelimiterToRecord processors."},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{"BucketARN":"arn:aws:s3:::b","RoleARN":"arn:aws:iam::1:role/r","Prefix":"!{nope}"}}`, 400,
			"InvalidArgumentException", ""},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{"BucketARN":"arn:aws:s3:::b","RoleARN":"arn:aws:iam::1:role/r","Prefix":"../../etc/"}}`, 400,
			"InvalidArgumentException", `Prefix "../../etc/" makes keys such as "../../etc/`},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"x",` + s3JSON + `,"DeliveryStreamEncryptionConfigurationInput":{"KeyType":"CUSTOMER_MANAGED_CMK"}}`, 400,
			"InvalidArgumentException", "KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK."},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"x",` + s3JSON + `,"Tags":[{"Key":"aws:x"}]}`, 400, "ValidationException",
			"1 validation error detected: Value 'aws:x' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?!aws:)"},
		{"CreateDeliveryStream", `{"DeliveryStreamName":5}`, 400, "SerializationException", ""},
		{"CreateDeliveryStream", `{"DeliveryStreamName":`, 400, "SerializationException", "The request body is not valid JSON."},
		{"DescribeDeliveryStream", `{"DeliveryStreamName":"none"}`, 400, "ResourceNotFoundException", "Firehose none under account 123456789012 not found."},
		{"DeleteDeliveryStream", `{"DeliveryStreamName":"none"}`, 400, "ResourceNotFoundException", "Firehose none under account 123456789012 not found."},
		{"ListDeliveryStreams", `{"Limit":0}`, 400, "ValidationException",
			"1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"PutRecord", `{"DeliveryStreamName":"none"}`, 400, "ValidationException",
			"1 validation error detected: Value null at 'record' failed to satisfy constraint: Member must not be null"},
		{"PutRecordBatch", `{"DeliveryStreamName":"none","Records":[]}`, 400, "ValidationException",
			"1 validation error detected: Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"PutRecordBatch", `{"DeliveryStreamName":"none","Records":[{"Data":"eA=="},{}]}`, 400, "ValidationException",
			"1 validation error detected: Value null at 'records.2.member.data' failed to satisfy constraint: Member must not be null"},
		{"PutRecord", `{"DeliveryStreamName":"none","Record":{"Data":"eA=="},"record":null}`, 400, "SerializationException",
			"The request names the member record in a case the model does not."},
		{"PutRecord", `{"DeliveryStreamName":"none","Record":{"Data":"eA=="}}}`, 400, "SerializationException", ""},
		{"PutRecord", `{"DeliveryStreamName":"none","Record":{"Data":"eA=="}}`, 400, "ResourceNotFoundException", "Firehose none under account 123456789012 not found."},
		{"UpdateDestination", `{"DeliveryStreamName":"none","CurrentDeliveryStreamVersionId":"x","DestinationId":"d"}`, 400, "ValidationException",
			"1 validation error detected: Value 'x' at 'currentDeliveryStreamVersionId' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]+"},
		{"ListTagsForDeliveryStream", `{"DeliveryStreamName":"none","Limit":51}`, 400, "ValidationException",
			"1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50"},
		{"Nope", `{}`, 400, "UnknownOperationException", "Operation Nope is not supported."},
	} {
		status, code, msg := r.call(tc.op, tc.body)
		require.Equal(t, tc.status, status, "%s %s", tc.op, tc.body)
		require.Equal(t, tc.code, code, "%s %s: %s", tc.op, tc.body, msg)
		require.True(t, strings.HasPrefix(msg, tc.prefix), "%s %s:\n got %s\nwant %s", tc.op, tc.body, msg, tc.prefix)
	}
	list, err := r.c.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{})
	require.NoError(t, err)
	require.Empty(t, list.DeliveryStreamNames, "no refused call made a delivery stream")
}

// TestRecordLimits: a record over 1 024 000 bytes and a batch over 500
// records are refused before anything is taken.
func TestRecordLimits(t *testing.T) {
	r := newRig(t, "")
	_, err := r.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("d"), ExtendedS3DestinationConfiguration: s3Config("lake")})
	require.NoError(t, err)
	_, err = r.c.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("d"), Record: &types.Record{Data: make([]byte, 1_024_001)}})
	require.Equal(t, "ValidationException", code(err))
	require.ErrorContains(t, err, "Value 'java.nio.HeapByteBuffer[pos=0 lim=1024001 cap=1024001]' at 'record.data' failed to satisfy constraint: Member must have length less than or equal to 1024000")
	records := make([]types.Record, 501)
	for i := range records {
		records[i] = types.Record{Data: []byte("x")}
	}
	_, err = r.c.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("d"), Records: records})
	require.Equal(t, "ValidationException", code(err))
	require.ErrorContains(t, err, "at 'records' failed to satisfy constraint: Member must have length less than or equal to 500")
	big := make([]types.Record, 5)
	for i := range big {
		big[i] = types.Record{Data: bytes.Repeat([]byte("x"), 1_000_000)}
	}
	_, err = r.c.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("d"), Records: big})
	require.Equal(t, "InvalidArgumentException", code(err))
}

// TestNamesAndQuotas: a name is taken once; the quota of delivery streams
// holds; tags stop at 50.
func TestNamesAndQuotas(t *testing.T) {
	r := newRig(t, "")
	r.srv.Close()
	r.http.Close()
	var err error
	r.srv, err = firehoseapi.New(firehoseapi.Config{Kinesis: r.kinesis, Buckets: r.buckets, MaxDeliveryStreams: 2, UnsignedRequests: true, Logger: quiet})
	require.NoError(t, err)
	r.http = newServer(t, r.srv)
	r.c = client(r.http.URL)

	mk := func(name string) error {
		_, err := r.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(name), ExtendedS3DestinationConfiguration: s3Config("lake")})
		return err
	}
	require.NoError(t, mk("a"))
	var inUse *types.ResourceInUseException
	require.ErrorAs(t, mk("a"), &inUse)
	require.Equal(t, "Firehose a under accountId 123456789012 already exists", *inUse.Message)
	require.NoError(t, mk("b"))
	var limit *types.LimitExceededException
	require.ErrorAs(t, mk("c"), &limit)

	list, err := r.c.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{Limit: aws.Int32(1)})
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, list.DeliveryStreamNames)
	require.True(t, *list.HasMoreDeliveryStreams)
	list, err = r.c.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{ExclusiveStartDeliveryStreamName: aws.String("a")})
	require.NoError(t, err)
	require.Equal(t, []string{"b"}, list.DeliveryStreamNames)

	var tags []types.Tag
	for i := range 50 {
		tags = append(tags, types.Tag{Key: aws.String("k" + strconv.Itoa(i)), Value: aws.String("v")})
	}
	_, err = r.c.TagDeliveryStream(ctx, &firehose.TagDeliveryStreamInput{DeliveryStreamName: aws.String("a"), Tags: tags})
	require.NoError(t, err)
	_, err = r.c.TagDeliveryStream(ctx, &firehose.TagDeliveryStreamInput{DeliveryStreamName: aws.String("a"), Tags: []types.Tag{{Key: aws.String("one-more")}}})
	require.ErrorAs(t, err, &limit)
	_, err = r.c.UntagDeliveryStream(ctx, &firehose.UntagDeliveryStreamInput{DeliveryStreamName: aws.String("a"), TagKeys: []string{"k0", "k1"}})
	require.NoError(t, err)
	page, err := r.c.ListTagsForDeliveryStream(ctx, &firehose.ListTagsForDeliveryStreamInput{DeliveryStreamName: aws.String("a"), Limit: aws.Int32(10)})
	require.NoError(t, err)
	require.Len(t, page.Tags, 10)
	require.Equal(t, "k2", *page.Tags[0].Key)
	require.True(t, *page.HasMoreTags)
	page, err = r.c.ListTagsForDeliveryStream(ctx, &firehose.ListTagsForDeliveryStreamInput{DeliveryStreamName: aws.String("a"), ExclusiveStartTagKey: aws.String("k48")})
	require.NoError(t, err)
	require.Len(t, page.Tags, 1)
	require.False(t, *page.HasMoreTags)
}

// TestNotPost: other methods are refused.
func TestNotPost(t *testing.T) {
	r := newRig(t, "")
	resp, err := http.Get(r.http.URL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// TestRequestsWaitTheirTurn: past MaxConcurrentRequests, a request waits
// for a place, and one whose client gives up while waiting is told to
// slow down, with nothing read.
func TestRequestsWaitTheirTurn(t *testing.T) {
	acct, err := shardlog.NewAccount(shardlog.WithoutLimits(), shardlog.WithLogger(quiet))
	require.NoError(t, err)
	defer acct.Close()
	srv, err := firehoseapi.New(firehoseapi.Config{Kinesis: acct, Buckets: t.TempDir(), UnsignedRequests: true, MaxConcurrentRequests: 1, Logger: quiet})
	require.NoError(t, err)
	defer srv.Close()

	body, feed := io.Pipe() // the first request holds the one place while its body comes
	first := httptest.NewRequest(http.MethodPost, "/", body)
	first.Header.Set("X-Amz-Target", "Firehose_20150804.ListDeliveryStreams")
	firstDone := make(chan int)
	go func() {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, first)
		firstDone <- w.Code
	}()
	_, err = feed.Write([]byte("{")) // the first request is reading its body: it holds the place
	require.NoError(t, err)

	gone, cancel := context.WithCancel(ctx)
	cancel()
	second := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}")).WithContext(gone)
	second.Header.Set("X-Amz-Target", "Firehose_20150804.ListDeliveryStreams")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, second)
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.Contains(t, w.Body.String(), "ServiceUnavailableException")

	_, err = feed.Write([]byte("}"))
	require.NoError(t, err)
	require.NoError(t, feed.Close())
	require.Equal(t, http.StatusOK, <-firstDone)
	w = httptest.NewRecorder()
	third := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
	third.Header.Set("X-Amz-Target", "Firehose_20150804.ListDeliveryStreams")
	srv.ServeHTTP(w, third)
	require.Equal(t, http.StatusOK, w.Code, "the place is free again")
}
