package iam

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	alice    = "arn:aws:iam::111111111111:user/alice"
	session  = "arn:aws:sts::111111111111:assumed-role/Writer/job-42"
	outsider = "arn:aws:iam::222222222222:user/bob"
	root     = "arn:aws:iam::111111111111:root"
	orders   = "arn:aws:kinesis:us-east-1:111111111111:stream/orders"
	consumer = orders + "/consumer/billing:1700000000"
)

func identity(statements ...string) []*Policy {
	return []*Policy{MustParse(`{"Version":"2012-10-17","Statement":[`+strings.Join(statements, ",")+`]}`, false)}
}

func resource(statements ...string) []*Policy {
	return []*Policy{MustParse(`{"Version":"2012-10-17","Statement":[`+strings.Join(statements, ",")+`]}`, true)}
}

// TestEvaluate follows the evaluation logic AWS documents ("Policy
// evaluation logic", "Cross-account policy evaluation logic") and its
// examples, case by case.
func TestEvaluate(t *testing.T) {
	allowPut := `{"Effect":"Allow","Action":"kinesis:PutRecord","Resource":"` + orders + `"}`
	for _, tc := range []struct {
		name               string
		identity, resource []*Policy
		req                Request
		want               Reason
		message            string // for denials
	}{
		{name: "an identity-based allow", identity: identity(allowPut),
			req: Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders}, want: Allowed},
		{name: "nothing allows: implicit deny",
			req: Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders}, want: ImplicitDeny,
			message: "User: " + alice + " is not authorized to perform: kinesis:PutRecord on resource: " + orders + " because no identity-based policy allows the kinesis:PutRecord action"},
		{name: "another action is not allowed", identity: identity(allowPut),
			req: Request{Principal: alice, Action: "kinesis:DeleteStream", Resource: orders}, want: ImplicitDeny},
		{name: "another resource is not allowed", identity: identity(allowPut),
			req: Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders + "-2"}, want: ImplicitDeny},
		{name: "an explicit deny wins over an allow",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}`, `{"Sid":"NoDelete","Effect":"Deny","Action":"kinesis:DeleteStream","Resource":"*"}`),
			req:      Request{Principal: alice, Action: "kinesis:DeleteStream", Resource: orders}, want: ExplicitDeny,
			message: "User: " + alice + " is not authorized to perform: kinesis:DeleteStream on resource: " + orders + " with an explicit deny in an identity-based policy"},
		{name: "wildcards in actions, without regard to case",
			identity: identity(`{"Effect":"Allow","Action":"KINESIS:put*","Resource":"arn:aws:kinesis:*:111111111111:stream/ord?rs"}`),
			req:      Request{Principal: alice, Action: "kinesis:PutRecords", Resource: orders}, want: Allowed},
		{name: "a stream's wildcard does not reach another account",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:*","Resource":"arn:aws:kinesis:*:111111111111:*"}`),
			req:      Request{Principal: alice, Action: "kinesis:PutRecord", Resource: "arn:aws:kinesis:us-east-1:222222222222:stream/orders"}, want: ImplicitDeny},
		{name: "a stream's ARN is not its consumers'",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:*","Resource":"` + orders + `"}`),
			req:      Request{Principal: alice, Action: "kinesis:SubscribeToShard", Resource: consumer}, want: ImplicitDeny},
		{name: "consumers under the stream's path",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:SubscribeToShard","Resource":"` + orders + `/consumer/*"}`),
			req:      Request{Principal: alice, Action: "kinesis:SubscribeToShard", Resource: consumer}, want: Allowed},
		{name: "NotAction allows everything else",
			identity: identity(`{"Effect":"Allow","NotAction":["kinesis:DeleteStream","kinesis:*Shard*"],"Resource":"*"}`),
			req:      Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders}, want: Allowed},
		{name: "NotAction leaves out what it names",
			identity: identity(`{"Effect":"Allow","NotAction":["kinesis:DeleteStream","kinesis:*Shard*"],"Resource":"*"}`),
			req:      Request{Principal: alice, Action: "kinesis:SplitShard", Resource: orders}, want: ImplicitDeny},
		{name: "NotResource in a deny protects all but one stream",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}`, `{"Effect":"Deny","Action":"kinesis:*","NotResource":"`+orders+`"}`),
			req:      Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders + "-2"}, want: ExplicitDeny},
		{name: "a resource-based allow suffices in the same account",
			resource: resource(`{"Effect":"Allow","Principal":{"AWS":"` + alice + `"},"Action":"kinesis:PutRecord","Resource":"` + orders + `"}`),
			req:      Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders}, want: Allowed},
		{name: "a resource policy names a role: its sessions match",
			resource: resource(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/Writer"},"Action":"kinesis:PutRecord","Resource":"*"}`),
			req:      Request{Principal: session, Action: "kinesis:PutRecord", Resource: orders}, want: Allowed},
		{name: "a resource policy names an account: its principals match",
			resource: resource(`{"Effect":"Allow","Principal":{"AWS":["222222222222"]},"Action":"kinesis:PutRecord","Resource":"*"}`),
			identity: identity(allowPut),
			req:      Request{Principal: outsider, Action: "kinesis:PutRecord", Resource: orders}, want: Allowed},
		{name: "a resource-based deny wins",
			identity: identity(allowPut),
			resource: resource(`{"Effect":"Deny","Principal":"*","Action":"kinesis:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`),
			req:      Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders, Context: map[string][]string{"aws:SecureTransport": {"false"}}}, want: ExplicitDeny,
			message: "User: " + alice + " is not authorized to perform: kinesis:PutRecord on resource: " + orders + " with an explicit deny in a resource-based policy"},
		{name: "cross-account: the identity-based allow alone is not enough",
			identity: identity(allowPut),
			req:      Request{Principal: outsider, Action: "kinesis:PutRecord", Resource: orders}, want: ImplicitDeny,
			message: "User: " + outsider + " is not authorized to perform: kinesis:PutRecord on resource: " + orders + " because no resource-based policy allows the kinesis:PutRecord action"},
		{name: "cross-account: the resource-based allow alone is not enough",
			resource: resource(`{"Effect":"Allow","Principal":{"AWS":"` + outsider + `"},"Action":"kinesis:PutRecord","Resource":"*"}`),
			req:      Request{Principal: outsider, Action: "kinesis:PutRecord", Resource: orders}, want: ImplicitDeny},
		{name: "the account's root needs no identity-based policy",
			req: Request{Principal: root, Action: "kinesis:DeleteStream", Resource: orders}, want: Allowed},
		{name: "a resource policy naming its own account delegates to identity-based policies",
			resource: resource(`{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"kinesis:*","Resource":"*"}`),
			req:      Request{Principal: alice, Action: "kinesis:DeleteStream", Resource: orders}, want: ImplicitDeny,
			message: "User: " + alice + " is not authorized to perform: kinesis:DeleteStream on resource: " + orders + " because no identity-based policy allows the kinesis:DeleteStream action"},
		{name: "a resource policy naming its own account's root delegates too",
			resource: resource(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kinesis:*","Resource":"*"}`),
			req:      Request{Principal: session, Action: "kinesis:DeleteStream", Resource: orders}, want: ImplicitDeny},
		{name: "delegated, and allowed by the identity-based policy",
			resource: resource(`{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"kinesis:*","Resource":"*"}`),
			identity: identity(allowPut),
			req:      Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders}, want: Allowed},
		{name: "Principal * names everyone itself",
			resource: resource(`{"Effect":"Allow","Principal":"*","Action":"kinesis:PutRecord","Resource":"*"}`),
			req:      Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders}, want: Allowed},
		{name: "another account's root, its account granted",
			resource: resource(`{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"kinesis:DeleteStream","Resource":"*"}`),
			req:      Request{Principal: "arn:aws:iam::222222222222:root", Action: "kinesis:DeleteStream", Resource: orders}, want: Allowed},
		{name: "another account's root, its root granted",
			resource: resource(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kinesis:DeleteStream","Resource":"*"}`),
			req:      Request{Principal: "arn:aws:iam::222222222222:root", Action: "kinesis:DeleteStream", Resource: orders}, want: Allowed},
		{name: "another account's user, its account granted, no identity-based allow",
			resource: resource(`{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"kinesis:DeleteStream","Resource":"*"}`),
			req:      Request{Principal: outsider, Action: "kinesis:DeleteStream", Resource: orders}, want: ImplicitDeny,
			message: "User: " + outsider + " is not authorized to perform: kinesis:DeleteStream on resource: " + orders + " because no identity-based policy allows the kinesis:DeleteStream action"},
		{name: "another account's root needs a resource-based allow",
			req: Request{Principal: "arn:aws:iam::222222222222:root", Action: "kinesis:DeleteStream", Resource: orders}, want: ImplicitDeny},
		{name: "an action on no resource",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:ListStreams","Resource":"*"}`),
			req:      Request{Principal: alice, Action: "kinesis:ListStreams", Resource: "*"}, want: Allowed},
		{name: "StringEquals on aws:PrincipalArn",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalArn":"` + alice + `"}}}`),
			req:      Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders}, want: Allowed},
		{name: "ArnLike on aws:PrincipalArn, another user",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/b*"}}}`),
			req:      Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders}, want: ImplicitDeny},
		{name: "IpAddress on aws:SourceIp",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.0.2.7"]}}}`),
			req:      Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders, Context: map[string][]string{"aws:sourceip": {"10.1.2.3"}}}, want: Allowed},
		{name: "IpAddress on a missing aws:SourceIp does not hold",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`),
			req:      Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders}, want: ImplicitDeny},
		{name: "NotIpAddress in a deny: outside the network is denied",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}`, `{"Effect":"Deny","Action":"kinesis:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`),
			req:      Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders, Context: map[string][]string{"aws:SourceIp": {"203.0.113.9"}}}, want: ExplicitDeny},
		{name: "a negated operator holds on a missing key",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"StringNotEquals":{"aws:ResourceTag/env":"prod"}}}`),
			req:      Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders}, want: Allowed},
		{name: "IfExists holds on a missing key",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:ResourceTag/env":"dev"}}}`),
			req:      Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders}, want: Allowed},
		{name: "IfExists tests a key that is there",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:ResourceTag/env":"dev"}}}`),
			req:      Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders, Context: map[string][]string{"aws:ResourceTag/env": {"prod"}}}, want: ImplicitDeny},
		{name: "Null: the key must be absent",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"Null":{"aws:ResourceTag/env":"true"}}}`),
			req:      Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders, Context: map[string][]string{"aws:ResourceTag/env": {"prod"}}}, want: ImplicitDeny},
		{name: "conditions of one statement must all hold",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"StringLike":{"aws:ResourceTag/team":"pay*"},"DateLessThan":{"aws:CurrentTime":"2026-12-01T00:00:00Z"}}}`),
			req: Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders,
				Context: map[string][]string{"aws:ResourceTag/team": {"payments"}, "aws:CurrentTime": {"2026-12-02T00:00:00Z"}}}, want: ImplicitDeny},
		{name: "ForAllValues holds when every value matches",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}}`),
			req:      Request{Principal: alice, Action: "kinesis:AddTagsToStream", Resource: orders, Context: map[string][]string{"aws:TagKeys": {"env", "team"}}}, want: Allowed},
		{name: "ForAllValues fails on a value outside the set",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}}`),
			req:      Request{Principal: alice, Action: "kinesis:AddTagsToStream", Resource: orders, Context: map[string][]string{"aws:TagKeys": {"env", "owner"}}}, want: ImplicitDeny},
		{name: "ForAnyValue holds when one value matches",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":"owner"}}}`),
			req:      Request{Principal: alice, Action: "kinesis:AddTagsToStream", Resource: orders, Context: map[string][]string{"aws:TagKeys": {"env", "owner"}}}, want: Allowed},
		{name: "Numeric conditions",
			identity: identity(`{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"NumericLessThanEquals":{"aws:MultiFactorAuthAge":3600}}}`),
			req:      Request{Principal: alice, Action: "kinesis:PutRecord", Resource: orders, Context: map[string][]string{"aws:MultiFactorAuthAge": {"7200"}}}, want: ImplicitDeny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate(tc.identity, tc.resource, tc.req)
			require.Equal(t, tc.want, d.Reason, "%+v", d)
			if tc.message != "" {
				require.Equal(t, tc.message, d.Message(tc.req))
			}
			if d.Reason != ImplicitDeny && tc.req.Principal != root {
				require.NotNil(t, d.Statement, "the statement that decided")
			}
		})
	}
}

// TestDecisionNamesTheStatement: the simulator's answer names the policy
// and statement that decided.
func TestDecisionNamesTheStatement(t *testing.T) {
	p := identity(`{"Sid":"Write","Effect":"Allow","Action":"kinesis:Put*","Resource":"*"}`, `{"Sid":"NoDelete","Effect":"Deny","Action":"kinesis:DeleteStream","Resource":"*"}`)
	p[0].Name = "writer"
	d := Evaluate(p, nil, Request{Principal: alice, Action: "kinesis:PutRecords", Resource: orders})
	require.Equal(t, "writer", d.Policy.Name)
	require.Equal(t, "Write", d.Statement.Sid)
	d = Evaluate(p, nil, Request{Principal: alice, Action: "kinesis:DeleteStream", Resource: orders})
	require.Equal(t, "NoDelete", d.Statement.Sid)
}

// TestParseRefuses: malformed documents are refused with a reason.
func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct {
		doc           string
		resourceBased bool
		want          string
	}{
		{`not json`, false, "not a JSON object"},
		{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, false, "no Version"},
		{`{"Version":"2020-01-01","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, false, "Version"},
		{`{"Version":"2012-10-17","Statement":[]}`, false, "non-empty list"},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Maybe","Action":"*","Resource":"*"}}`, false, "Effect must be Allow or Deny"},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"}}`, false, "not both"},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}`, false, "needs Action or NotAction"},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"PutRecord","Resource":"*"}}`, false, "service:action"},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"stream/x"}}`, false, "not an ARN"},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`, false, "has no Principal"},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, true, "needs a Principal"},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"me","Action":"*","Resource":"*"}}`, true, "must be *"},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringSortOf":{"k":"v"}}}}`, false, "not supported"},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Maybe:StringEquals":{"k":"v"}}}}`, false, "unknown qualifier"},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":{}}}}}`, false, "not a string, number or boolean"},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Extra":1}}`, false, "not a statement"},
	} {
		_, err := Parse(tc.doc, tc.resourceBased)
		require.ErrorContains(t, err, tc.want, tc.doc)
	}
}

// TestRoles: the ready-made roles allow their jobs and nothing more.
func TestRoles(t *testing.T) {
	allowed := func(r Role, action, resource string) bool {
		return Evaluate([]*Policy{r.Policy(orders)}, nil, Request{Principal: alice, Action: action, Resource: resource}).Allowed()
	}
	for _, tc := range []struct {
		role     Role
		allow    []string
		deny     []string
		consumer []string // allowed on a consumer of the stream
	}{
		{Producer, []string{"PutRecord", "PutRecords", "ListShards", "DescribeStreamSummary"},
			[]string{"GetRecords", "GetShardIterator", "DeleteStream", "SplitShard", "RegisterStreamConsumer"}, nil},
		{Consumer, []string{"GetRecords", "GetShardIterator", "ListShards", "RegisterStreamConsumer"},
			[]string{"PutRecord", "DeleteStream", "UpdateShardCount", "DeregisterStreamConsumer"}, []string{"SubscribeToShard", "DescribeStreamConsumer"}},
		{Resharding, []string{"SplitShard", "MergeShards", "UpdateShardCount", "ListShards"},
			[]string{"PutRecord", "GetRecords", "DeleteStream", "CreateStream"}, nil},
		{Administrator, []string{"DeleteStream", "PutRecord", "GetRecords", "SplitShard", "AddTagsToStream"}, nil,
			[]string{"SubscribeToShard", "DeregisterStreamConsumer"}},
	} {
		for _, a := range tc.allow {
			require.True(t, allowed(tc.role, "kinesis:"+a, orders), "%s may %s", tc.role, a)
		}
		for _, a := range tc.deny {
			require.False(t, allowed(tc.role, "kinesis:"+a, orders), "%s may not %s", tc.role, a)
		}
		for _, a := range tc.consumer {
			require.True(t, allowed(tc.role, "kinesis:"+a, consumer), "%s may %s on a consumer", tc.role, a)
		}
		require.False(t, allowed(tc.role, "kinesis:PutRecord", "arn:aws:kinesis:us-east-1:111111111111:stream/other"), "%s: another stream", tc.role)
	}
	require.True(t, allowed(Administrator, "kinesis:ListStreams", "*"))
	require.False(t, allowed(Producer, "kinesis:ListStreams", "*"))
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true}, {"*", "", true}, {"a*b", "ab", true}, {"a*b", "axxb", true}, {"a*b", "axxc", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*a*a*a*", "aaa", true}, {"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaa", false},
	} {
		require.Equal(t, tc.want, glob(tc.pattern, tc.s), "%q ~ %q", tc.pattern, tc.s)
	}
	require.True(t, globFold("Kinesis:PUT*", "kinesis:PutRecords"))
	require.False(t, globFold("kinesis:Get*", "kinesis:PutRecords"))
	require.True(t, matchARN("arn:aws:kinesis:*:1:stream/*", "arn:aws:kinesis:us-east-1:1:stream/s/consumer/c:1"))
	require.False(t, matchARN("arn:aws:kinesis:*:1:stream/s", "arn:aws:kinesis:us-east-1:1:stream/s/consumer/c:1"))
	require.False(t, matchARN("arn:aws:kinesis:*:1:*", "arn:aws:kinesis:us-east-1:2:stream/s"))
	require.Equal(t, "123", accountOf("arn:aws:iam::123:user/x"))
	require.Equal(t, "", accountOf("arn:aws:iam"))
}

// FuzzPolicy: no document makes Parse or Evaluate panic, and what Parse
// accepts decides every request one way or another.
func FuzzPolicy(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kinesis:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}`, "kinesis:PutRecord", orders)
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},"NotAction":"kinesis:Get*","NotResource":"arn:*"}]}`, "kinesis:GetRecords", "*")
	f.Fuzz(func(t *testing.T, doc, action, res string) {
		for _, rb := range []bool{false, true} {
			p, err := Parse(doc, rb)
			if err != nil {
				continue
			}
			req := Request{Principal: alice, Action: action, Resource: res, Context: map[string][]string{"aws:SourceIp": {"10.0.0.1"}, "aws:CurrentTime": {"2026-01-01T00:00:00Z"}}}
			var d Decision
			if rb {
				d = Evaluate(nil, []*Policy{p}, req)
			} else {
				d = Evaluate([]*Policy{p}, nil, req)
			}
			if d.Reason != Allowed && d.Message(req) == "" {
				t.Fatal("a denial without a message")
			}
		}
	})
}

// TestMessageWithoutResource: an action that takes no resource is denied
// without naming one, as CloudWatch's are.
func TestMessageWithoutResource(t *testing.T) {
	req := Request{Principal: "arn:aws:iam::123456789012:user/u", Action: "cloudwatch:GetMetricData"}
	d := Evaluate(nil, nil, req)
	if got, want := d.Message(req), "User: arn:aws:iam::123456789012:user/u is not authorized to perform: cloudwatch:GetMetricData because no identity-based policy allows the cloudwatch:GetMetricData action"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
