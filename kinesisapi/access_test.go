package kinesisapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/iam"
	"github.com/shardlog/shardlog/kinesisapi"
)

const account = "123456789012"

// secured is a server for an account with access control on: a principal
// and an access key per ready-made role (the key ID is the role's name,
// the secret its name reversed), a stream "s" of two shards with a
// consumer "c". The account clock is the wall clock's now, manual, since
// the SDK signs with the wall clock.
type secured struct {
	t    *testing.T
	acct *shardlog.Account
	clk  *shardlog.ManualClock
	srv  *httptest.Server
}

func newSecured(t *testing.T) *secured {
	clk := shardlog.NewManualClock(time.Now().UTC().Truncate(time.Second))
	acct, err := shardlog.NewAccount(shardlog.WithClock(clk), shardlog.WithoutLimits(), shardlog.WithAccountID(account), shardlog.WithAccessControl())
	require.NoError(t, err)
	for _, r := range []iam.Role{iam.Administrator, iam.Resharding, iam.Producer, iam.Consumer} {
		arn := "arn:aws:iam::" + account + ":user/" + string(r)
		require.NoError(t, acct.PutPrincipal(arn, r.Document("arn:aws:kinesis:us-east-1:"+account+":stream/*")))
		require.NoError(t, acct.PutAccessKey(string(r), reverse(string(r)), arn))
	}
	srv := httptest.NewServer(kinesisapi.NewHandler(acct))
	t.Cleanup(func() {
		srv.Close()
		acct.Close()
	})
	s, err := acct.CreateStream(context.Background(), shardlog.CreateStreamInput{StreamName: "s", ShardCount: 2})
	require.NoError(t, err)
	_, err = s.RegisterStreamConsumer(context.Background(), "c")
	require.NoError(t, err)
	return &secured{t: t, acct: acct, clk: clk, srv: srv}
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// client signs as role, with key id and secret (secret "" for the role's).
func (s *secured) client(id, secret string) *kinesis.Client {
	if secret == "" {
		secret = reverse(id)
	}
	return kinesis.New(kinesis.Options{
		BaseEndpoint:     aws.String(s.srv.URL),
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(id, secret, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       sdkClient(s.srv.Client()),
	})
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

// TestAccessMatrixThroughSDK: each role's calls through the SDK, signed:
// what the role allows succeeds, every other call is AccessDeniedException
// and leaves the stream as it was.
func TestAccessMatrixThroughSDK(t *testing.T) {
	ctx := context.Background()
	streamARN := "arn:aws:kinesis:us-east-1:" + account + ":stream/s"
	ops := []struct {
		name string
		call func(c *kinesis.Client, consumerARN string) error
	}{
		{"PutRecord", func(c *kinesis.Client, _ string) error {
			return errOf(c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("x")}))
		}},
		{"PutRecords", func(c *kinesis.Client, _ string) error {
			return errOf(c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: []types.PutRecordsRequestEntry{{PartitionKey: aws.String("k"), Data: []byte("x")}}}))
		}},
		{"GetShardIterator", func(c *kinesis.Client, _ string) error {
			return errOf(c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}))
		}},
		{"ListShards", func(c *kinesis.Client, _ string) error {
			return errOf(c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("s")}))
		}},
		{"DescribeStreamSummary", func(c *kinesis.Client, _ string) error {
			return errOf(c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("s")}))
		}},
		{"ListStreams", func(c *kinesis.Client, _ string) error {
			return errOf(c.ListStreams(ctx, &kinesis.ListStreamsInput{}))
		}},
		{"CreateStream", func(c *kinesis.Client, _ string) error {
			return errOf(c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("new"), ShardCount: aws.Int32(1)}))
		}},
		{"SplitShard", func(c *kinesis.Client, _ string) error {
			return errOf(c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("s"), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("12345678901234567890")}))
		}},
		{"AddTagsToStream", func(c *kinesis.Client, _ string) error {
			return errOf(c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("s"), Tags: map[string]string{"env": "prod"}}))
		}},
		{"RegisterStreamConsumer", func(c *kinesis.Client, _ string) error {
			return errOf(c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(streamARN), ConsumerName: aws.String("c2")}))
		}},
		{"SubscribeToShard", func(c *kinesis.Client, consumerARN string) error {
			out, err := c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: aws.String(consumerARN), ShardId: aws.String("shardId-000000000000"),
				StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
			if err == nil {
				out.GetStream().Close()
			}
			return err
		}},
		{"PutResourcePolicy", func(c *kinesis.Client, _ string) error {
			return errOf(c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(streamARN),
				Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kinesis:DeleteStream","Resource":"*"}]}`)}))
		}},
		{"DeleteStream", func(c *kinesis.Client, _ string) error {
			return errOf(c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("s"), EnforceConsumerDeletion: aws.Bool(true)}))
		}},
	}
	allows := map[iam.Role]string{
		iam.Resharding: "SplitShard ListShards DescribeStreamSummary",
		iam.Producer:   "PutRecord PutRecords ListShards DescribeStreamSummary",
		iam.Consumer:   "GetShardIterator ListShards DescribeStreamSummary RegisterStreamConsumer SubscribeToShard",
	}
	denied, deniedRight := 0, 0
	for _, role := range []iam.Role{iam.Administrator, iam.Resharding, iam.Producer, iam.Consumer} {
		for _, op := range ops {
			s := newSecured(t)
			st, err := s.acct.Stream(shardlog.StreamRef{StreamName: "s"})
			require.NoError(t, err)
			c, err := st.DescribeStreamConsumer(ctx, "c")
			require.NoError(t, err)
			before := state(t, s.acct)
			err = op.call(s.client(string(role), ""), c.ConsumerARN)
			allowed := role == iam.Administrator || strings.Contains(" "+allows[role]+" ", " "+op.name+" ")
			if allowed {
				require.NoError(t, err, "%s may %s", role, op.name)
				continue
			}
			denied++
			if apiCode(err) == "AccessDeniedException" && state(t, s.acct) == before &&
				apiMessage(err) == "User: arn:aws:iam::"+account+":user/"+string(role)+" is not authorized to perform: kinesis:"+op.name+
					" on resource: "+resourceOf(op.name, streamARN, c.ConsumerARN)+" because no identity-based policy allows the kinesis:"+op.name+" action" {
				deniedRight++
			} else {
				t.Errorf("%s %s: %v", role, op.name, err)
			}
		}
	}
	require.Equal(t, denied, deniedRight, "every denied call is AccessDeniedException and changes nothing")
	require.Greater(t, denied, 20)
}

func resourceOf(op, streamARN, consumerARN string) string {
	switch op {
	case "ListStreams":
		return "*"
	case "SubscribeToShard":
		return consumerARN
	case "CreateStream":
		return strings.TrimSuffix(streamARN, "/s") + "/new"
	}
	return streamARN
}

// state is what the matrix's calls could change in the account.
func state(t *testing.T, a *shardlog.Account) string {
	ctx := context.Background()
	streams, err := a.ListStreams(ctx, shardlog.ListStreamsInput{})
	require.NoError(t, err)
	out := strings.Join(streams.StreamNames, ",")
	s, err := a.Stream(shardlog.StreamRef{StreamName: "s"})
	if err != nil {
		return out + " no s"
	}
	sum, err := s.DescribeStreamSummary(ctx)
	require.NoError(t, err)
	tags, err := s.ListTagsForStream(ctx, shardlog.ListTagsForStreamInput{})
	require.NoError(t, err)
	consumers, err := s.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{})
	require.NoError(t, err)
	policy, err := a.GetResourcePolicy(ctx, s.ARN())
	require.NoError(t, err)
	records := 0
	for _, id := range []string{"shardId-000000000000", "shardId-000000000001"} {
		for range s.Records(ctx, id, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
			records++
		}
	}
	return strings.Join([]string{out, string(sum.StreamStatus), strconv.Itoa(sum.OpenShardCount), strconv.Itoa(records), strconv.Itoa(len(tags.Tags)), strconv.Itoa(len(consumers.Consumers)), policy}, " ")
}

// TestDeniedCallerLearnsNothing: a missing stream answers a denied caller
// AccessDeniedException, not ResourceNotFoundException.
func TestDeniedCallerLearnsNothing(t *testing.T) {
	s := newSecured(t)
	ctx := context.Background()
	_, err := s.client(string(iam.Producer), "").DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("missing")})
	require.Equal(t, "AccessDeniedException", apiCode(err))
	_, err = s.client(string(iam.Consumer), "").PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("missing"), PartitionKey: aws.String("k"), Data: []byte("x")})
	require.Equal(t, "AccessDeniedException", apiCode(err))
	_, err = s.client(string(iam.Producer), "").PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("missing"), PartitionKey: aws.String("k"), Data: []byte("x")})
	require.Equal(t, "ResourceNotFoundException", apiCode(err), "allowed: the stream is looked up")
}

// TestResourcePolicyThroughSDK: Put, Get and DeleteResourcePolicy.
func TestResourcePolicyThroughSDK(t *testing.T) {
	s := newSecured(t)
	ctx := context.Background()
	c := s.client(string(iam.Administrator), "")
	arn := aws.String("arn:aws:kinesis:us-east-1:" + account + ":stream/s")
	get := func() string {
		out, err := c.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: arn})
		require.NoError(t, err)
		return aws.ToString(out.Policy)
	}
	require.Equal(t, "{}", get())
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:user/producer"},"Action":"kinesis:GetRecords","Resource":"*"}]}`
	require.NoError(t, errOf(c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: arn, Policy: aws.String(policy)})))
	require.Equal(t, policy, get())
	_, err := c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: arn, Policy: aws.String(`{"Version":"2012-10-17"}`)})
	require.Equal(t, "InvalidArgumentException", apiCode(err))
	require.NoError(t, errOf(c.DeleteResourcePolicy(ctx, &kinesis.DeleteResourcePolicyInput{ResourceARN: arn})))
	require.Equal(t, "{}", get())
}

// rawRequest is a ListStreams request, signed by signer as configured.
func (s *secured) rawRequest(body string) *http.Request {
	r, err := http.NewRequest(http.MethodPost, s.srv.URL+"/", strings.NewReader(body))
	require.NoError(s.t, err)
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
	return r
}

func payloadHash(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

// sign signs r with the SDK's signer as key id/secret, at when, for region.
func sign(t *testing.T, r *http.Request, body, id, secret, region string, when time.Time) {
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, r, payloadHash(body), "kinesis", region, when)
	require.NoError(t, err)
}

// send sends r and returns the exception it got ("" for success) and its
// message.
func send(t *testing.T, r *http.Request) (status int, code, message string) {
	resp, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, "", ""
	}
	if bytes.HasPrefix(b, []byte("<")) {
		code, rest, _ := strings.Cut(strings.TrimPrefix(string(b), "<"), ">")
		msg, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(rest), "<Message>"), "</Message>")
		return resp.StatusCode, strings.TrimSuffix(code, "/"), msg
	}
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	require.NoError(t, json.Unmarshal(b, &e), string(b))
	return resp.StatusCode, e.Type, e.Message
}

// TestSignatures: SigV4 as AWS checks it, with AWS's answers.
func TestSignatures(t *testing.T) {
	s := newSecured(t)
	const body = "{}"
	now := s.clk.Now()
	id, secret := string(iam.Administrator), reverse(string(iam.Administrator))

	r := s.rawRequest(body)
	sign(t, r, body, id, secret, "us-east-1", now)
	_, code, _ := send(t, r)
	require.Equal(t, "", code, "a good signature")

	for _, tc := range []struct {
		name    string
		prepare func(r *http.Request)
		status  int
		code    string
		message string // a prefix
	}{
		{"unsigned", func(*http.Request) {}, 400, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"incomplete", func(r *http.Request) { r.Header.Set("Authorization", "X") }, 400, "IncompleteSignatureException",
			"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=X"},
		{"unknown key", func(r *http.Request) { sign(t, r, body, "AKIDUNKNOWN", secret, "us-east-1", now) }, 400, "UnrecognizedClientException",
			"The security token included in the request is invalid."},
		{"wrong secret", func(r *http.Request) { sign(t, r, body, id, "wrong", "us-east-1", now) }, 400, "InvalidSignatureException",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'POST\n/\n\ncontent-length:2\ncontent-type:application/x-amz-json-1.1\nhost:"},
		{"wrong region", func(r *http.Request) { sign(t, r, body, id, secret, "eu-west-1", now) }, 400, "InvalidSignatureException",
			"Credential should be scoped to a valid region, not 'eu-west-1'. "},
		{"old", func(r *http.Request) { sign(t, r, body, id, secret, "us-east-1", now.Add(-6*time.Minute)) }, 400, "InvalidSignatureException",
			"Signature expired: " + now.Add(-6*time.Minute).Format("20060102T150405Z") + " is now earlier than " + now.Add(-5*time.Minute).Format("20060102T150405Z") + " (" + now.Format("20060102T150405Z") + " - 5 min.)"},
		{"future", func(r *http.Request) { sign(t, r, body, id, secret, "us-east-1", now.Add(6*time.Minute)) }, 400, "InvalidSignatureException",
			"Signature not yet current: " + now.Add(6*time.Minute).Format("20060102T150405Z") + " is still later than " + now.Add(5*time.Minute).Format("20060102T150405Z") + " (" + now.Format("20060102T150405Z") + " + 5 min.)"},
		{"within Kinesis's five minutes", func(r *http.Request) { sign(t, r, body, id, secret, "us-east-1", now.Add(-4*time.Minute)) }, 200, "", ""},
		{"host not signed", func(r *http.Request) {
			sign(t, r, body, id, secret, "us-east-1", now)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";host", "", 1))
		}, 400, "IncompleteSignatureException", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{"the target not signed, then changed", func(r *http.Request) {
			// Signed over host and x-amz-date as DescribeLimits, replayed
			// as another operation: refused before the signature is checked.
			r.Header.Del("X-Amz-Target")
			sign(t, r, body, id, secret, "us-east-1", now)
			r.Header.Set("X-Amz-Target", "Kinesis_20131202.DeleteStream")
		}, 400, "IncompleteSignatureException", "There were headers present in the request which were not signed: x-amz-target."},
		{"tampered header", func(r *http.Request) {
			sign(t, r, body, id, secret, "us-east-1", now)
			r.Header.Set("X-Amz-Target", "Kinesis_20131202.DescribeLimits")
		}, 400, "InvalidSignatureException", "The request signature we calculated does not match"},
		{"another algorithm", func(r *http.Request) {
			r.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
			r.Header.Set("Authorization", "AWS4-HMAC-SHA1 Credential="+id+"/"+now.Format("20060102")+"/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00")
		}, 400, "IncompleteSignatureException", "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1'"},
		{"a short credential", func(r *http.Request) {
			r.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+id+"/us-east-1, SignedHeaders=host, Signature=00")
		}, 400, "IncompleteSignatureException", "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + id + "/us-east-1'"},
		{"a bad date", func(r *http.Request) {
			r.Header.Set("X-Amz-Date", "yesterday")
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+id+"/"+now.Format("20060102")+"/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00")
		}, 400, "IncompleteSignatureException", "Date must be in ISO-8601 'basic format'. Got 'yesterday'."},
		{"a scope of another day", func(r *http.Request) {
			r.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+id+"/20000101/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00")
		}, 400, "InvalidSignatureException", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20000101' != '" + now.Format("20060102") + "'"},
		{"another service", func(r *http.Request) { sign(t, r, body, id, secret, "us-east-1", now); scope(r, "kinesis", "dynamodb") }, 400,
			"InvalidSignatureException", "Credential should be scoped to correct service: 'kinesis'. "},
		{"another terminator", func(r *http.Request) {
			sign(t, r, body, id, secret, "us-east-1", now)
			scope(r, "aws4_request", "aws5_request")
		}, 400,
			"InvalidSignatureException", "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. "},
		{"too many signed headers", func(r *http.Request) {
			r.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+id+"/"+now.Format("20060102")+"/us-east-1/kinesis/aws4_request, SignedHeaders="+
				strings.Repeat("x-a;", 100)+"host, Signature=00")
		}, 400, "InvalidSignatureException", "A request may sign at most 64 headers."},
		{"both forms", func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
			r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256"
		}, 400, "InvalidSignatureException", "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.rawRequest(body)
			tc.prepare(r)
			status, code, msg := send(t, r)
			require.Equal(t, tc.status, status)
			require.Equal(t, tc.code, code)
			require.True(t, strings.HasPrefix(msg, tc.message), "message %q, want %q...", msg, tc.message)
		})
	}

	t.Run("tampered body", func(t *testing.T) {
		r := s.rawRequest(`{"Limit":5}`)
		sign(t, r, `{"Limit":5}`, id, secret, "us-east-1", now)
		r.Body = io.NopCloser(strings.NewReader(`{"Limit":6}`))
		_, code, _ := send(t, r)
		require.Equal(t, "InvalidSignatureException", code)
	})

	t.Run("presigned", func(t *testing.T) {
		presign := func(when time.Time, expires string) *http.Request {
			r := s.rawRequest(body)
			r.URL.RawQuery = "X-Amz-Expires=" + expires
			u, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, r, payloadHash(body), "kinesis", "us-east-1", when)
			require.NoError(t, err)
			p, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
			require.NoError(t, err)
			p.Header = r.Header.Clone()
			p.Header.Del("X-Amz-Target") // the signer put it in the query string
			return p
		}
		_, code, _ := send(t, presign(now, "300"))
		require.Equal(t, "", code, "a good presigned URL")
		p := presign(now, "300")
		p.Header.Set("X-Amz-Target", "Kinesis_20131202.DeleteStream")
		_, code, msg := send(t, p)
		require.Equal(t, "IncompleteSignatureException", code, "an operation added to a presigned URL")
		require.Contains(t, msg, "x-amz-target")
		_, code, msg = send(t, presign(now.Add(-10*time.Minute), "300"))
		require.Equal(t, "InvalidSignatureException", code)
		require.Contains(t, msg, "Signature expired")
		_, code, msg = send(t, presign(now, "604801"))
		require.Equal(t, "InvalidSignatureException", code)
		require.Contains(t, msg, "X-Amz-Expires must be a whole number of seconds from 1 to 604800")
		r := s.rawRequest(body)
		r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256"
		_, code, msg = send(t, r)
		require.Equal(t, "IncompleteSignatureException", code)
		require.Equal(t, "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters.", msg)
	})

	t.Run("other methods", func(t *testing.T) {
		r, err := http.NewRequest(http.MethodGet, s.srv.URL+"/", nil)
		require.NoError(t, err)
		status, code, msg := send(t, r)
		require.Equal(t, http.StatusForbidden, status)
		require.Equal(t, "MissingAuthenticationTokenException", code)
		require.Equal(t, "Missing Authentication Token", msg)
	})
}

// TestCredentialsNeededButNotChecked: without access control a request
// must still carry a signature of SigV4's shape, as on AWS (so that an SDK
// configured without credentials fails here as there), but any will do;
// WithUnsignedRequests serves requests with none at all.
func TestCredentialsNeededButNotChecked(t *testing.T) {
	client, _, _ := setup(t)
	require.NoError(t, errOf(client.ListStreams(context.Background(), &kinesis.ListStreamsInput{})), "an SDK with made-up credentials")
	strict := httptest.NewServer(kinesisapi.NewHandler(mustAccount(t)))
	defer strict.Close()
	loose := httptest.NewServer(kinesisapi.NewHandler(mustAccount(t), kinesisapi.WithUnsignedRequests()))
	defer loose.Close()
	const body = "{}"
	for _, tc := range []struct {
		name          string
		srv           *httptest.Server
		prepare       func(r *http.Request)
		status        int
		code, message string
	}{
		{"no credentials", strict, func(*http.Request) {}, 400, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"no credentials, served", loose, func(*http.Request) {}, 200, "", ""},
		{"made-up credentials", strict, func(r *http.Request) { sign(t, r, body, "AKIDMADEUP", "secret", "eu-west-3", time.Unix(0, 0)) }, 200, "", ""},
		{"malformed", strict, func(r *http.Request) { r.Header.Set("Authorization", "Bearer x") }, 400, "IncompleteSignatureException",
			"Authorization header requires 'Credential' parameter."},
		{"malformed, even when unsigned ones are served", loose, func(r *http.Request) {
			r.Header.Set("X-Amz-Date", "20261207T000000Z")
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=0")
		}, 400, "IncompleteSignatureException", "Credential must have exactly 5 slash-delimited elements"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptestRequest(tc.srv.URL, "Kinesis_20131202.ListStreams", "application/x-amz-json-1.1", body)
			tc.prepare(r)
			status, code, msg := send(t, r)
			require.Equal(t, tc.status, status)
			require.Equal(t, tc.code, code)
			require.True(t, strings.HasPrefix(msg, tc.message), "message %q, want %q...", msg, tc.message)
		})
	}
}

func mustAccount(t *testing.T) *shardlog.Account {
	a, err := shardlog.NewAccount()
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	return a
}

// scope rewrites a part of a signed request's credential scope.
func scope(r *http.Request, from, to string) {
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/"+from, "/"+to, 1))
}
