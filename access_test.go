package shardlog_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/iam"
	"github.com/shardlog/shardlog/internal/testlog"
)

const accountID = "123456789012"

func userARN(name string) string { return "arn:aws:iam::" + accountID + ":user/" + name }

// roleAccount is an account with access control on, a stream "s" of two
// shards with a consumer "c", and a principal per ready-made role, named
// after it, whose policies reach every stream.
func roleAccount(t *testing.T, opts ...shardlog.Option) (*shardlog.Account, *shardlog.Stream, *shardlog.ManualClock) {
	t.Helper()
	a, clk := newAccount(t, append([]shardlog.Option{shardlog.WithAccessControl()}, opts...)...)
	streams := "arn:aws:kinesis:us-east-1:" + accountID + ":stream/*"
	for _, r := range []iam.Role{iam.Administrator, iam.Resharding, iam.Producer, iam.Consumer} {
		require.NoError(t, a.PutPrincipal(userARN(string(r)), r.Document(streams)))
	}
	require.NoError(t, a.PutPrincipal(userARN("nobody")))
	s := newStream(t, a, "s", 2)
	_, err := s.RegisterStreamConsumer(ctx, "c")
	require.NoError(t, err)
	return a, s, clk
}

func as(principal string) context.Context {
	return shardlog.WithCaller(ctx, shardlog.Caller{PrincipalARN: userARN(principal)})
}

// operation is one call of the matrix, and how to tell it changed
// nothing.
type operation struct {
	name string
	call func(ctx context.Context, a *shardlog.Account, s *shardlog.Stream) error
	// state reports what the call would change, to compare before and
	// after a denied call.
	state func(a *shardlog.Account, s *shardlog.Stream) string
}

func operations(t *testing.T) []operation {
	consumerARN := func(s *shardlog.Stream) string {
		c, err := s.DescribeStreamConsumer(ctx, "c")
		require.NoError(t, err)
		return c.ConsumerARN
	}
	records := func(_ *shardlog.Account, s *shardlog.Stream) string {
		n := 0
		for _, id := range []string{"shardId-000000000000", "shardId-000000000001"} {
			for _, err := range s.Records(ctx, id, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
				require.NoError(t, err)
				n++
			}
		}
		return fmt.Sprint(n, " records")
	}
	shards := func(_ *shardlog.Account, s *shardlog.Stream) string {
		out, err := s.ListShards(ctx, shardlog.ListShardsInput{})
		require.NoError(t, err)
		return fmt.Sprint(len(out.Shards), " shards")
	}
	summary := func(_ *shardlog.Account, s *shardlog.Stream) string {
		d, err := s.DescribeStreamSummary(ctx)
		require.NoError(t, err)
		return fmt.Sprintf("%s %d %s %v %d", d.StreamStatus, d.RetentionPeriodHours, d.EncryptionType, d.ShardLevelMetrics, d.OpenShardCount)
	}
	tags := func(_ *shardlog.Account, s *shardlog.Stream) string {
		out, err := s.ListTagsForStream(ctx, shardlog.ListTagsForStreamInput{})
		require.NoError(t, err)
		return fmt.Sprint(out.Tags)
	}
	streams := func(a *shardlog.Account, _ *shardlog.Stream) string {
		out, err := a.ListStreams(ctx, shardlog.ListStreamsInput{})
		require.NoError(t, err)
		return fmt.Sprint(out.StreamNames)
	}
	consumers := func(_ *shardlog.Account, s *shardlog.Stream) string {
		out, err := s.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{})
		require.NoError(t, err)
		var names []string
		for _, c := range out.Consumers {
			names = append(names, c.ConsumerName+":"+string(c.ConsumerStatus))
		}
		return fmt.Sprint(names)
	}
	none := func(*shardlog.Account, *shardlog.Stream) string { return "" }
	return []operation{
		{"PutRecord", func(ctx context.Context, _ *shardlog.Account, s *shardlog.Stream) error {
			return errOf(s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("x")}))
		}, records},
		{"PutRecords", func(ctx context.Context, _ *shardlog.Account, s *shardlog.Stream) error {
			return errOf(s.PutBatch(ctx, []shardlog.PutInput{{PartitionKey: "k", Data: []byte("x")}}))
		}, records},
		{"GetShardIterator", func(ctx context.Context, _ *shardlog.Account, s *shardlog.Stream) error {
			return errOf(s.GetShardIterator(ctx, "shardId-000000000000", shardlog.StartingPosition{Type: shardlog.TrimHorizon}))
		}, none},
		{"GetRecords", func(ctx context.Context, a *shardlog.Account, s *shardlog.Stream) error {
			it, err := s.GetShardIterator(context.Background(), "shardId-000000000000", shardlog.StartingPosition{Type: shardlog.TrimHorizon})
			require.NoError(t, err)
			return errOf(a.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it}))
		}, none},
		{"ListShards", func(ctx context.Context, a *shardlog.Account, s *shardlog.Stream) error {
			return errOf(a.ListShards(ctx, shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: "s"}}))
		}, none},
		{"DescribeStream", func(ctx context.Context, _ *shardlog.Account, s *shardlog.Stream) error {
			return errOf(s.DescribeStream(ctx, shardlog.DescribeStreamInput{}))
		}, none},
		{"DescribeStreamSummary", func(ctx context.Context, _ *shardlog.Account, s *shardlog.Stream) error {
			return errOf(s.DescribeStreamSummary(ctx))
		}, none},
		{"ListStreams", func(ctx context.Context, a *shardlog.Account, _ *shardlog.Stream) error {
			return errOf(a.ListStreams(ctx, shardlog.ListStreamsInput{}))
		}, none},
		{"DescribeLimits", func(ctx context.Context, a *shardlog.Account, _ *shardlog.Stream) error {
			return errOf(a.DescribeLimits(ctx))
		}, none},
		{"CreateStream", func(ctx context.Context, a *shardlog.Account, _ *shardlog.Stream) error {
			return errOf(a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "new", ShardCount: 1}))
		}, streams},
		{"SplitShard", func(ctx context.Context, _ *shardlog.Account, s *shardlog.Stream) error {
			return errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: "shardId-000000000000", NewStartingHashKey: "12345678901234567890"}))
		}, shards},
		{"MergeShards", func(ctx context.Context, _ *shardlog.Account, s *shardlog.Stream) error {
			return errOf(s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: "shardId-000000000000", AdjacentShardToMerge: "shardId-000000000001"}))
		}, shards},
		{"UpdateShardCount", func(ctx context.Context, _ *shardlog.Account, s *shardlog.Stream) error {
			return errOf(s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 4, ScalingType: shardlog.UniformScaling}))
		}, shards},
		{"IncreaseStreamRetentionPeriod", func(ctx context.Context, _ *shardlog.Account, s *shardlog.Stream) error {
			return s.IncreaseStreamRetentionPeriod(ctx, 48*time.Hour)
		}, summary},
		{"StartStreamEncryption", func(ctx context.Context, _ *shardlog.Account, s *shardlog.Stream) error {
			return s.StartStreamEncryption(ctx, shardlog.EncryptionKMS, "alias/aws/kinesis")
		}, summary},
		{"EnableEnhancedMonitoring", func(ctx context.Context, _ *shardlog.Account, s *shardlog.Stream) error {
			return errOf(s.EnableEnhancedMonitoring(ctx, []string{"ALL"}))
		}, summary},
		{"AddTagsToStream", func(ctx context.Context, _ *shardlog.Account, s *shardlog.Stream) error {
			return s.AddTagsToStream(ctx, map[string]string{"env": "prod"})
		}, tags},
		{"ListTagsForStream", func(ctx context.Context, _ *shardlog.Account, s *shardlog.Stream) error {
			return errOf(s.ListTagsForStream(ctx, shardlog.ListTagsForStreamInput{}))
		}, none},
		{"RegisterStreamConsumer", func(ctx context.Context, _ *shardlog.Account, s *shardlog.Stream) error {
			return errOf(s.RegisterStreamConsumer(ctx, "c2"))
		}, consumers},
		{"ListStreamConsumers", func(ctx context.Context, _ *shardlog.Account, s *shardlog.Stream) error {
			return errOf(s.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{}))
		}, none},
		{"DescribeStreamConsumer", func(ctx context.Context, a *shardlog.Account, s *shardlog.Stream) error {
			return errOf(a.DescribeStreamConsumer(ctx, shardlog.ConsumerRef{ConsumerARN: consumerARN(s)}))
		}, none},
		{"SubscribeToShard", func(ctx context.Context, a *shardlog.Account, s *shardlog.Stream) error {
			sub, err := a.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerARN: consumerARN(s), ShardID: "shardId-000000000000", StartingPosition: shardlog.StartingPosition{Type: shardlog.TrimHorizon}})
			if err == nil {
				require.NoError(t, sub.Close())
			}
			return err
		}, none},
		{"DeregisterStreamConsumer", func(ctx context.Context, a *shardlog.Account, s *shardlog.Stream) error {
			return a.DeregisterStreamConsumer(ctx, shardlog.ConsumerRef{ConsumerARN: consumerARN(s)})
		}, consumers},
		{"DeleteStream", func(ctx context.Context, a *shardlog.Account, _ *shardlog.Stream) error {
			return a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "s"}, EnforceConsumerDeletion: true})
		}, streams},
	}
}

// roleAllows says which operations each ready-made role may call.
var roleAllows = map[iam.Role][]string{
	iam.Administrator: nil, // all
	iam.Resharding:    {"SplitShard", "MergeShards", "UpdateShardCount", "ListShards", "DescribeStream", "DescribeStreamSummary"},
	iam.Producer:      {"PutRecord", "PutRecords", "ListShards", "DescribeStream", "DescribeStreamSummary"},
	iam.Consumer: {"GetShardIterator", "GetRecords", "ListShards", "DescribeStream", "DescribeStreamSummary",
		"RegisterStreamConsumer", "ListStreamConsumers", "DescribeStreamConsumer", "SubscribeToShard"},
}

// TestAccessMatrix: every operation called by every role through the Go
// API: what the role allows succeeds, everything else fails with
// AccessDeniedException in AWS's words and changes nothing.
func TestAccessMatrix(t *testing.T) {
	for _, role := range []iam.Role{iam.Administrator, iam.Resharding, iam.Producer, iam.Consumer, "nobody"} {
		for _, op := range operations(t) {
			t.Run(string(role)+"/"+op.name, func(t *testing.T) {
				a, s, _ := roleAccount(t)
				allowed := role == iam.Administrator
				for _, name := range roleAllows[role] {
					allowed = allowed || name == op.name
				}
				before := op.state(a, s)
				err := op.call(as(string(role)), a, s)
				if allowed {
					require.NoError(t, err)
					return
				}
				require.ErrorIs(t, err, shardlog.ErrAccessDenied)
				require.Regexp(t, `^User: arn:aws:iam::123456789012:user/`+string(role)+` is not authorized to perform: kinesis:`+op.name+
					` on resource: (\*|arn:aws:kinesis:us-east-1:123456789012:stream/\S+) because no identity-based policy allows the kinesis:`+op.name+` action$`,
					err.(*shardlog.Error).Message)
				require.Equal(t, before, op.state(a, s), "a denied call changed nothing")
			})
		}
	}
}

// TestAccessWithoutCallerOrControl: in-process calls without a Caller act
// as the account's root; without WithAccessControl, Callers are not
// checked.
func TestAccessWithoutCallerOrControl(t *testing.T) {
	_, s, _ := roleAccount(t)
	require.NoError(t, errOf(s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})))
	require.ErrorIs(t, errOf(s.Put(as("stranger"), shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})), shardlog.ErrAccessDenied,
		"a principal the account does not know")

	a, _ := newAccount(t)
	open := newStream(t, a, "s", 1)
	require.False(t, a.AccessControl())
	require.NoError(t, errOf(open.Put(as("stranger"), shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})))
}

// TestAccessDeniedBeforeNotFound: a denied caller learns nothing of a
// stream, not even whether it exists.
func TestAccessDeniedBeforeNotFound(t *testing.T) {
	a, _, _ := roleAccount(t)
	err := a.DeleteStream(as(string(iam.Producer)), shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "missing"}})
	require.ErrorIs(t, err, shardlog.ErrAccessDenied)
	_, err = a.ListShards(as("nobody"), shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: "missing"}})
	require.ErrorIs(t, err, shardlog.ErrAccessDenied)
	_, err = a.ListShards(as(string(iam.Producer)), shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: "missing"}})
	require.ErrorIs(t, err, shardlog.ErrResourceNotFound, "allowed: then the stream is looked up")
}

// TestDeniedCallersLearnNothingOfConsumers: a caller with no permission
// gets AccessDenied for a consumer, its stream or its policy whether or
// not they exist, and whatever it sends as a policy.
func TestDeniedCallersLearnNothingOfConsumers(t *testing.T) {
	a, s, _ := roleAccount(t)
	nobody := as("nobody")
	refs := map[string]shardlog.ConsumerRef{
		"there":          {StreamARN: s.ARN(), ConsumerName: "c"},
		"no consumer":    {StreamARN: s.ARN(), ConsumerName: "missing"},
		"no stream":      {StreamARN: a.StreamARN("missing"), ConsumerName: "c"},
		"ARN, not there": {ConsumerARN: s.ARN() + "/consumer/missing:1"},
	}
	for name, ref := range refs {
		_, err := a.DescribeStreamConsumer(nobody, ref)
		require.ErrorIs(t, err, shardlog.ErrAccessDenied, name)
		require.ErrorIs(t, a.DeregisterStreamConsumer(nobody, ref), shardlog.ErrAccessDenied, name)
	}
	for _, arn := range []string{s.ARN(), a.StreamARN("missing")} {
		require.ErrorIs(t, a.PutResourcePolicy(nobody, arn, "not a policy"), shardlog.ErrAccessDenied, arn)
		require.ErrorIs(t, a.DeleteResourcePolicy(nobody, arn), shardlog.ErrAccessDenied, arn)
		_, err := a.GetResourcePolicy(nobody, arn)
		require.ErrorIs(t, err, shardlog.ErrAccessDenied, arn)
	}

	// Allowed callers are then told what is there.
	admin := as(string(iam.Administrator))
	_, err := a.DescribeStreamConsumer(admin, refs["no consumer"])
	require.ErrorIs(t, err, shardlog.ErrResourceNotFound)
	_, err = a.DescribeStreamConsumer(admin, refs["there"])
	require.NoError(t, err)
	require.ErrorIs(t, a.PutResourcePolicy(admin, s.ARN(), "not a policy"), shardlog.ErrInvalidArgument)
}

// TestDenialsAreLogged: each denial is logged at info with the principal,
// the action and the resource; a caller denied in a loop is counted, not
// logged line by line.
func TestDenialsAreLogged(t *testing.T) {
	var buf testlog.Buffer
	a, s, _ := roleAccount(t, shardlog.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	require.ErrorIs(t, errOf(s.Put(as("nobody"), shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})), shardlog.ErrAccessDenied)
	line := buf.String()
	for _, want := range []string{"level=INFO", `msg="shardlog: access denied"`, "principal=" + userARN("nobody"), "action=kinesis:PutRecord", "resource=" + s.ARN()} {
		require.Contains(t, line, want)
	}
	for range 100 {
		require.ErrorIs(t, a.DeleteStream(as("nobody"), shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "s"}}), shardlog.ErrAccessDenied)
	}
	require.Less(t, strings.Count(buf.String(), "access denied"), 20, "a flood is not logged line by line")
}

// TestAccessConditions: a statement's conditions see the caller's address
// and transport, and the account clock.
func TestAccessConditions(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithAccessControl())
	s := newStream(t, a, "s", 1)
	require.NoError(t, a.PutPrincipal(userARN("office"), `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"kinesis:PutRecord","Resource":"*",
		 "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"Bool":{"aws:SecureTransport":"true"},
		              "DateLessThan":{"aws:CurrentTime":"`+t0.Add(time.Hour).Format(time.RFC3339)+`"}}}]}`))
	put := func(ip string, tls bool) error {
		c := shardlog.Caller{PrincipalARN: userARN("office"), SourceIP: netip.MustParseAddr(ip), SecureTransport: tls}
		return errOf(s.Put(shardlog.WithCaller(ctx, c), shardlog.PutInput{PartitionKey: "k", Data: []byte("x")}))
	}
	require.NoError(t, put("10.1.2.3", true))
	require.ErrorIs(t, put("192.0.2.1", true), shardlog.ErrAccessDenied)
	require.ErrorIs(t, put("10.1.2.3", false), shardlog.ErrAccessDenied)
	clk.Advance(2 * time.Hour)
	require.ErrorIs(t, put("10.1.2.3", true), shardlog.ErrAccessDenied, "past the policy's date")
}

// TestResourcePolicies: a stream's or consumer's resource-based policy
// grants what the caller's own policies do not; across accounts both are
// needed; only callers of the owning account may change it.
func TestResourcePolicies(t *testing.T) {
	a, s, _ := roleAccount(t)
	c, err := s.DescribeStreamConsumer(ctx, "c")
	require.NoError(t, err)
	admin := as(string(iam.Administrator))

	got, err := a.GetResourcePolicy(admin, s.ARN())
	require.NoError(t, err)
	require.Equal(t, "{}", got, "none yet")

	grant := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["` + userARN("nobody") + `","arn:aws:iam::210987654321:root"]},"Action":"kinesis:PutRecord","Resource":"` + s.ARN() + `"}]}`
	require.ErrorIs(t, a.PutResourcePolicy(as(string(iam.Producer)), s.ARN(), grant), shardlog.ErrAccessDenied)
	require.NoError(t, a.PutResourcePolicy(admin, s.ARN(), grant))
	got, err = a.GetResourcePolicy(admin, s.ARN())
	require.NoError(t, err)
	require.Equal(t, grant, got)
	require.NoError(t, errOf(s.Put(as("nobody"), shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})), "granted by the stream")

	outsider := "arn:aws:iam::210987654321:user/eve"
	require.NoError(t, a.PutPrincipal(outsider, iam.Producer.Document("*")))
	eve := shardlog.WithCaller(ctx, shardlog.Caller{PrincipalARN: outsider})
	require.NoError(t, errOf(s.Put(eve, shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})), "both policies allow")
	err = errOf(s.PutBatch(eve, []shardlog.PutInput{{PartitionKey: "k", Data: []byte("x")}}))
	require.ErrorIs(t, err, shardlog.ErrAccessDenied, "the stream's policy grants PutRecord only")
	require.Contains(t, err.Error(), "because no resource-based policy allows the kinesis:PutRecords action")
	require.ErrorIs(t, a.PutResourcePolicy(eve, s.ARN(), grant), shardlog.ErrAccessDenied, "another account's caller")

	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kinesis:SubscribeToShard","Resource":"*"}]}`
	require.NoError(t, a.PutResourcePolicy(admin, c.ConsumerARN, deny))
	_, err = a.SubscribeToShard(as(string(iam.Consumer)), shardlog.SubscribeToShardInput{ConsumerARN: c.ConsumerARN, ShardID: "shardId-000000000000", StartingPosition: shardlog.StartingPosition{Type: shardlog.Latest}})
	require.ErrorIs(t, err, shardlog.ErrAccessDenied)
	require.Contains(t, err.Error(), "with an explicit deny in a resource-based policy")
	require.NoError(t, a.DeleteResourcePolicy(admin, c.ConsumerARN))
	sub, err := a.SubscribeToShard(as(string(iam.Consumer)), shardlog.SubscribeToShardInput{ConsumerARN: c.ConsumerARN, ShardID: "shardId-000000000000", StartingPosition: shardlog.StartingPosition{Type: shardlog.Latest}})
	require.NoError(t, err)
	require.NoError(t, sub.Close())

	for _, bad := range []string{`{}`, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`} {
		err := a.PutResourcePolicy(admin, s.ARN(), bad)
		require.ErrorIs(t, err, shardlog.ErrInvalidArgument, bad)
	}
	require.ErrorIs(t, a.PutResourcePolicy(admin, a.StreamARN("missing"), grant), shardlog.ErrResourceNotFound)
	big := `{"Version":"2012-10-17","Statement":{"Sid":"` + strings.Repeat("x", 20<<10) + `","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`
	require.ErrorIs(t, a.PutResourcePolicy(admin, s.ARN(), big), shardlog.ErrInvalidArgument, "over 20 KiB")
}

// TestAccountPrincipalDelegates: a stream policy that names its own
// account (by ID or root ARN) grants nothing by itself, as in IAM: it
// delegates to the account's identity-based policies. One that names
// another account lets that account's root in.
func TestAccountPrincipalDelegates(t *testing.T) {
	a, s, _ := roleAccount(t)
	admin := as(string(iam.Administrator))
	for _, principal := range []string{accountID, "arn:aws:iam::" + accountID + ":root"} {
		policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"kinesis:*","Resource":"` + s.ARN() + `"}]}`
		require.NoError(t, a.PutResourcePolicy(admin, s.ARN(), policy))
		err := s.AddTagsToStream(as("nobody"), map[string]string{"k": "v"})
		require.ErrorIs(t, err, shardlog.ErrAccessDenied, "principal %s: a user with no permission of its own", principal)
		require.Contains(t, err.Error(), "because no identity-based policy allows the kinesis:AddTagsToStream action")
		require.NoError(t, errOf(s.Put(as(string(iam.Producer)), shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})), "the producer's own policy allows")
	}
	other := "arn:aws:iam::210987654321:root"
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"210987654321"},"Action":"kinesis:PutRecord","Resource":"` + s.ARN() + `"}]}`
	require.NoError(t, a.PutResourcePolicy(admin, s.ARN(), policy))
	require.NoError(t, a.PutPrincipal(other))
	rootCtx := shardlog.WithCaller(ctx, shardlog.Caller{PrincipalARN: other})
	require.NoError(t, errOf(s.Put(rootCtx, shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})), "another account's root, its account granted")
}

// TestResourcePoliciesSurviveARestart: a durable account keeps them.
func TestResourcePoliciesSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	open := func() *shardlog.Account {
		a, err := shardlog.NewAccount(shardlog.WithDir(dir), shardlog.WithAccountID(accountID), shardlog.WithoutLimits())
		require.NoError(t, err)
		return a
	}
	a := open()
	s := newStream(t, a, "s", 1)
	c, err := s.RegisterStreamConsumer(ctx, "c")
	require.NoError(t, err)
	policy := func(who string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + userARN(who) + `"},"Action":"kinesis:*","Resource":"*"}]}`
	}
	require.NoError(t, a.PutResourcePolicy(ctx, s.ARN(), policy("a")))
	require.NoError(t, a.PutResourcePolicy(ctx, c.ConsumerARN, policy("b")))
	require.NoError(t, a.Close())

	a = open()
	defer a.Close()
	for arn, want := range map[string]string{s.ARN(): policy("a"), c.ConsumerARN: policy("b")} {
		got, err := a.GetResourcePolicy(ctx, arn)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
}

// TestSimulatePolicy: the simulator answers without a call, naming the
// statement that decided, with access control off too.
func TestSimulatePolicy(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	require.NoError(t, a.PutPrincipal(userARN("w"), `{"Version":"2012-10-17","Statement":[
		{"Sid":"Write","Effect":"Allow","Action":"kinesis:Put*","Resource":"*"},
		{"Sid":"NotFromOutside","Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`))
	d := a.SimulatePolicy(iam.Request{Principal: userARN("w"), Action: "kinesis:PutRecords", Resource: s.ARN(),
		Context: map[string][]string{"aws:SourceIp": {"10.0.0.1"}}})
	require.True(t, d.Allowed())
	require.Equal(t, "Write", d.Statement.Sid)
	d = a.SimulatePolicy(iam.Request{Principal: userARN("w"), Action: "kinesis:PutRecords", Resource: s.ARN(),
		Context: map[string][]string{"aws:SourceIp": {"203.0.113.1"}}})
	require.Equal(t, iam.ExplicitDeny, d.Reason)
	require.Equal(t, "NotFromOutside", d.Statement.Sid)
	d = a.SimulatePolicy(iam.Request{Principal: userARN("w"), Action: "kinesis:GetRecords", Resource: s.ARN(),
		Context: map[string][]string{"aws:SourceIp": {"10.0.0.1"}}})
	require.Equal(t, iam.ImplicitDeny, d.Reason)
	require.Nil(t, d.Statement)
}

// TestPutPrincipalRefuses: bad principals, policies and keys.
func TestPutPrincipalRefuses(t *testing.T) {
	a, _ := newAccount(t)
	for _, err := range []error{
		a.PutPrincipal("alice"),
		a.PutPrincipal("arn:aws:kinesis:us-east-1:123456789012:stream/s"),
		a.PutPrincipal(userARN("a"), `{"Version":"2012-10-17"}`),
		a.PutPrincipal(userARN("a"), `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`),
		a.PutAccessKey("", "secret", userARN("a")),
		a.PutAccessKey("AKID", "secret", userARN("unknown")),
	} {
		require.ErrorIs(t, err, shardlog.ErrInvalidArgument)
	}
	require.NoError(t, a.PutPrincipal(userARN("a")))
	require.NoError(t, a.PutAccessKey("AKID", "secret", userARN("a")))
	secret, principal, ok := a.AccessKey("AKID")
	require.True(t, ok)
	require.Equal(t, "secret", secret)
	require.Equal(t, userARN("a"), principal)
	_, _, ok = a.AccessKey("other")
	require.False(t, ok)
}

// TestAccessByResourceTag: aws:ResourceTag conditions see the stream's
// tags, for the stream and its consumers (attribute-based access).
func TestAccessByResourceTag(t *testing.T) {
	a, _ := newAccount(t, shardlog.WithAccessControl(), shardlog.WithAccountID(accountID))
	s := newStream(t, a, "s", 1)
	require.NoError(t, a.PutPrincipal(userARN("team"), `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["kinesis:PutRecord","kinesis:RegisterStreamConsumer"],"Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"payments"}}}]}`))
	put := func() error {
		return errOf(s.Put(as("team"), shardlog.PutInput{PartitionKey: "k", Data: []byte("x")}))
	}
	require.ErrorIs(t, put(), shardlog.ErrAccessDenied, "untagged")
	require.NoError(t, s.AddTagsToStream(ctx, map[string]string{"team": "payments"}))
	require.NoError(t, put())
	require.NoError(t, errOf(s.RegisterStreamConsumer(as("team"), "c")))
	require.NoError(t, s.AddTagsToStream(ctx, map[string]string{"team": "search"}))
	require.ErrorIs(t, put(), shardlog.ErrAccessDenied, "another team's now")
}

// TestAccessByRequestTags: aws:RequestTag and aws:TagKeys conditions see
// the tags a call sets or removes.
func TestAccessByRequestTags(t *testing.T) {
	a, _ := newAccount(t, shardlog.WithAccessControl())
	s := newStream(t, a, "s", 1)
	require.NoError(t, a.PutPrincipal(userARN("tagger"), `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["kinesis:AddTagsToStream","kinesis:RemoveTagsFromStream","kinesis:CreateStream"],"Resource":"*",
		 "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}},
		{"Effect":"Deny","Action":"kinesis:AddTagsToStream","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/env":"prod"}}}]}`))
	tagger := as("tagger")
	require.NoError(t, s.AddTagsToStream(tagger, map[string]string{"env": "dev", "team": "a"}))
	require.ErrorIs(t, s.AddTagsToStream(tagger, map[string]string{"owner": "me"}), shardlog.ErrAccessDenied, "a key outside the set")
	require.ErrorIs(t, s.AddTagsToStream(tagger, map[string]string{"env": "prod"}), shardlog.ErrAccessDenied, "a denied value")
	require.NoError(t, s.RemoveTagsFromStream(tagger, []string{"team"}))
	require.ErrorIs(t, s.RemoveTagsFromStream(tagger, []string{"owner"}), shardlog.ErrAccessDenied)
	require.NoError(t, errOf(a.CreateStream(tagger, shardlog.CreateStreamInput{StreamName: "t", ShardCount: 1, Tags: map[string]string{"team": "a"}})))
	require.ErrorIs(t, errOf(a.CreateStream(tagger, shardlog.CreateStreamInput{StreamName: "u", ShardCount: 1, Tags: map[string]string{"cost": "1"}})), shardlog.ErrAccessDenied)
}

// TestKMSAccess: with access control, a stream encrypted with a
// customer-managed key needs kms:GenerateDataKey to put and kms:Decrypt
// to read; Kinesis's own key (alias/aws/kinesis) needs neither.
func TestKMSAccess(t *testing.T) {
	ring := shardlog.NewKeyRing()
	require.NoError(t, ring.AddKey("cmk-1", make([]byte, 32), "alias/orders"))
	a, _ := newAccount(t, shardlog.WithAccessControl(), shardlog.WithKeyRing(ring))
	s := newStream(t, a, "s", 1)
	streams := "arn:aws:kinesis:us-east-1:" + accountID + ":stream/*"
	key := "arn:aws:kms:us-east-1:" + accountID + ":key/cmk-1"
	require.NoError(t, a.PutPrincipal(userARN("writer"), iam.Producer.Document(streams),
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:GenerateDataKey","Resource":"`+key+`"}}`))
	require.NoError(t, a.PutPrincipal(userARN("reader"), iam.Consumer.Document(streams)))
	require.NoError(t, a.PutPrincipal(userARN("plain"), iam.Producer.Document(streams)))
	putAs := func(who string) error {
		return errOf(s.Put(as(who), shardlog.PutInput{PartitionKey: "k", Data: []byte("x")}))
	}
	readAs := func(who string) error {
		it, err := s.GetShardIterator(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
		require.NoError(t, err)
		return errOf(s.GetRecords(as(who), shardlog.GetRecordsInput{ShardIterator: it}))
	}

	require.NoError(t, s.StartStreamEncryption(ctx, shardlog.EncryptionKMS, shardlog.DefaultKMSKey))
	require.NoError(t, putAs("plain"), "Kinesis's own key")
	require.NoError(t, readAs("reader"))

	require.NoError(t, s.StartStreamEncryption(ctx, shardlog.EncryptionKMS, "alias/orders"))
	err := putAs("plain")
	require.ErrorIs(t, err, shardlog.ErrKMSAccessDenied)
	require.Contains(t, err.Error(), "is not authorized to perform: kms:GenerateDataKey on resource: "+key)
	require.NoError(t, putAs("writer"))
	require.ErrorIs(t, readAs("reader"), shardlog.ErrKMSAccessDenied, "kms:Decrypt")
	require.NoError(t, a.PutPrincipal(userARN("reader"), iam.Consumer.Document(streams),
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}}`))
	require.NoError(t, readAs("reader"))
}
