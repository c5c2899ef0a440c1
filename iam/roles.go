package iam

import (
	"encoding/json"
	"fmt"
)

// Role is one of the least-privilege roles of a Kinesis data stream, as
// AWS's guidance for producers and consumers draws them.
type Role string

// The ready-made roles.
const (
	// Administrator may do anything to the streams and their consumers,
	// and list streams and limits.
	Administrator Role = "administrator"
	// Resharding may split, merge and rescale the streams and read their
	// descriptions.
	Resharding Role = "resharding"
	// Producer may write records and read what a producer library reads
	// first (descriptions, shards).
	Producer Role = "producer"
	// Consumer may read records, by polling or through enhanced fan-out
	// consumers it registers, and read descriptions and shards.
	Consumer Role = "consumer"
)

// roleActions are each role's actions on streams (the first list) and on
// their consumers (the second).
var roleActions = map[Role][2][]string{
	Administrator: {{"kinesis:*"}, {"kinesis:*"}},
	Resharding: {{"kinesis:SplitShard", "kinesis:MergeShards", "kinesis:UpdateShardCount",
		"kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards"}, nil},
	Producer: {{"kinesis:PutRecord", "kinesis:PutRecords",
		"kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards"}, nil},
	Consumer: {{"kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream",
		"kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:RegisterStreamConsumer",
		"kinesis:ListStreamConsumers"}, {"kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer"}},
}

// Document returns the role's identity-based policy for the streams that
// streamARN names (wildcards allowed: arn:aws:kinesis:*:123456789012:stream/*).
// It panics for an unknown role.
func (r Role) Document(streamARN string) string {
	actions, ok := roleActions[r]
	if !ok {
		panic(fmt.Sprintf("iam: unknown role %q", string(r)))
	}
	type statement struct {
		Sid      string
		Effect   Effect
		Action   []string
		Resource any
	}
	doc := struct {
		Version   string
		Statement []statement
	}{Version: "2012-10-17"}
	doc.Statement = append(doc.Statement, statement{"Streams", Allow, actions[0], streamARN})
	if actions[1] != nil {
		doc.Statement = append(doc.Statement, statement{"Consumers", Allow, actions[1], streamARN + "/consumer/*"})
	}
	if r == Administrator {
		doc.Statement = append(doc.Statement, statement{"Account", Allow, []string{"kinesis:ListStreams", "kinesis:DescribeLimits"}, "*"})
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return string(b)
}

// Policy is the role's Document, parsed and named after the role.
func (r Role) Policy(streamARN string) *Policy {
	p := MustParse(r.Document(streamARN), false)
	p.Name = string(r)
	return p
}
