package kinesisapi_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/kinesisapi"
)

// Messages below come from the Kinesis API model's constraints and from
// responses recorded against AWS (the order of members and of enum values,
// the wording of values): never from shardlog's own output.

const (
	mustNotBeNull = "failed to satisfy constraint: Member must not be null"
	namePattern   = "failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
	hashPattern   = `failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\d{0,38})`
	seqPattern    = `failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\d{0,128})`
	atLeast1      = "failed to satisfy constraint: Member must have length greater than or equal to 1"
)

// errorOf calls op and returns its error's type and message.
func errorOf(t *testing.T, h http.Handler, op, body string) (code, message string) {
	t.Helper()
	rec := call(h, op, body)
	if rec.Code == http.StatusOK {
		return "", ""
	}
	var e struct{ Message string }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e), rec.Body.String())
	return rec.Header().Get("X-Amzn-ErrorType"), e.Message
}

func TestValidationAsAWSWordsIt(t *testing.T) {
	h := kinesisapi.NewHandler(newAccount(t), kinesisapi.WithUnsignedRequests())
	long := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		name, op, body, message string
	}{
		{"required members", "PutRecord", `{}`,
			"2 validation errors detected: Value null at 'partitionKey' " + mustNotBeNull + "; Value null at 'data' " + mustNotBeNull},
		{"null is absent", "PutRecord", `{"StreamName":"s","PartitionKey":null,"Data":"YQ=="}`,
			"1 validation error detected: Value null at 'partitionKey' " + mustNotBeNull},
		{"every member empty, in AWS's order", "PutRecord",
			`{"StreamName":"","PartitionKey":"","Data":"","ExplicitHashKey":"","SequenceNumberForOrdering":""}`,
			"5 validation errors detected: Value '' at 'sequenceNumberForOrdering' " + seqPattern +
				"; Value '' at 'partitionKey' " + atLeast1 +
				"; Value '' at 'explicitHashKey' " + hashPattern +
				"; Value '' at 'streamName' " + namePattern +
				"; Value '' at 'streamName' " + atLeast1},
		{"too long, data shown as Java shows a buffer", "PutRecord",
			`{"StreamName":"` + long(129) + `","PartitionKey":"` + long(257) + `","Data":"` +
				base64.StdEncoding.EncodeToString(make([]byte, 1<<20+1)) + `","ExplicitHashKey":""}`,
			"4 validation errors detected: Value '" + long(257) + "' at 'partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256" +
				"; Value '' at 'explicitHashKey' " + hashPattern +
				"; Value 'java.nio.HeapByteBuffer[pos=0 lim=1048577 cap=1048577]' at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576" +
				"; Value '" + long(129) + "' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"length in UTF-16 units", "PutRecord", `{"StreamName":"s","Data":"","PartitionKey":"` + strings.Repeat("😀", 129) + `"}`,
			"1 validation error detected: Value '" + strings.Repeat("😀", 129) + "' at 'partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256"},
		{"hash key not a decimal", "PutRecord", `{"StreamName":"s","Data":"","PartitionKey":"k","ExplicitHashKey":"0x10"}`,
			"1 validation error detected: Value '0x10' at 'explicitHashKey' " + hashPattern},
		{"empty batch", "PutRecords", `{"StreamName":"","Records":[]}`,
			"3 validation errors detected: Value '[]' at 'records' " + atLeast1 +
				"; Value '' at 'streamName' " + namePattern + "; Value '' at 'streamName' " + atLeast1},
		{"a record's members", "PutRecords", `{"StreamName":"","Records":[{"PartitionKey":"","Data":"","ExplicitHashKey":""}]}`,
			"4 validation errors detected: Value '' at 'records.1.member.partitionKey' " + atLeast1 +
				"; Value '' at 'records.1.member.explicitHashKey' " + hashPattern +
				"; Value '' at 'streamName' " + namePattern + "; Value '' at 'streamName' " + atLeast1},
		{"a record's missing members", "PutRecords", `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":""},{}]}`,
			"2 validation errors detected: Value null at 'records.2.member.partitionKey' " + mustNotBeNull +
				"; Value null at 'records.2.member.data' " + mustNotBeNull},
		{"enum, in AWS's order", "GetShardIterator", `{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"NEWEST"}`,
			"1 validation error detected: Value 'NEWEST' at 'shardIteratorType' failed to satisfy constraint: " +
				"Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]"},
		{"limit below range", "GetRecords", `{"ShardIterator":"x","Limit":0}`,
			"1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"limit above range", "GetRecords", `{"ShardIterator":"x","Limit":10001}`,
			"1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000"},
		{"limit and iterator", "GetRecords", `{"Limit":0}`,
			"2 validation errors detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1" +
				"; Value null at 'shardIterator' " + mustNotBeNull},
		{"empty start name", "ListStreams", `{"ExclusiveStartStreamName":""}`,
			"2 validation errors detected: Value '' at 'exclusiveStartStreamName' " + namePattern +
				"; Value '' at 'exclusiveStartStreamName' " + atLeast1},
		{"nested required member", "SubscribeToShard",
			`{"ConsumerARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1","ShardId":"shardId-000000000000","StartingPosition":{}}`,
			"1 validation error detected: Value null at 'startingPosition.type' " + mustNotBeNull},
		{"a list's elements", "RemoveTagsFromStream", `{"StreamName":"s","TagKeys":["","a",""]}`,
			"1 validation error detected: Value '[, a, ]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: " +
				"[Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"},
		{"a map's keys", "AddTagsToStream", `{"StreamName":"s","Tags":{"a":"1","` + long(129) + `":"3"}}`,
			"1 validation error detected: Value '{a=1, " + long(129) + "=3}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: " +
				"[Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"},
		{"a map's values", "AddTagsToStream", `{"StreamName":"s","Tags":{"c":"` + long(257) + `"}}`,
			"1 validation error detected: Value '{c=" + long(257) + "}' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: " +
				"[Member must have length less than or equal to 256, Member must have length greater than or equal to 0]"},
		{"an empty map", "AddTagsToStream", `{"StreamName":"s","Tags":{}}`,
			"1 validation error detected: Value '{}' at 'tags' " + atLeast1},
		{"a bad ARN", "ListStreamConsumers", `{"StreamARN":"arn:aws:sqs:us-east-1:000000000000:q"}`,
			"1 validation error detected: Value 'arn:aws:sqs:us-east-1:000000000000:q' at 'streamARN' failed to satisfy constraint: " +
				`Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\d{12}:stream/\S+`},
		{"a count below one", "UpdateShardCount", `{"StreamName":"s","TargetShardCount":0,"ScalingType":"UNIFORM_SCALING"}`,
			"1 validation error detected: Value '0' at 'targetShardCount' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"an escaped value", "ListStreams", `{"ExclusiveStartStreamName":"a\u0020b"}`,
			"1 validation error detected: Value 'a b' at 'exclusiveStartStreamName' " + namePattern},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := errorOf(t, h, tc.op, tc.body)
			require.Equal(t, "ValidationException", code, msg)
			require.Equal(t, tc.message, msg)
		})
	}
}

// TestValidationListsTenInAWSOrder: 501 records with empty keys are 502
// violations; AWS lists ten, the list's own first, and shows the list as
// Java prints it.
func TestValidationListsTenInAWSOrder(t *testing.T) {
	h := kinesisapi.NewHandler(newAccount(t), kinesisapi.WithUnsignedRequests())
	body := `{"StreamName":"","Records":[` + strings.TrimSuffix(strings.Repeat(`{"PartitionKey":"","Data":""},`, 501), ",") + `]}`
	code, msg := errorOf(t, h, "PutRecords", body)
	require.Equal(t, "ValidationException", code)
	entry := `com\.amazonaws\.kinesis\.v20131202\.PutRecordsRequestEntry@[0-9a-f]+`
	want := `^10 validation errors detected: Value '\[` + entry + `(, ` + entry + `){500}\]' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500`
	for i := 1; i <= 9; i++ {
		want += regexp.QuoteMeta("; Value '' at 'records." + string(rune('0'+i)) + ".member.partitionKey' " + atLeast1)
	}
	require.Regexp(t, want+"$", msg)
}

// TestSerializationComesFirst: a value of the wrong type is a
// SerializationException even beside constraint violations, and base64
// with bits past its data ("+/+=") is refused, as AWS refuses it.
func TestSerializationComesFirst(t *testing.T) {
	h := kinesisapi.NewHandler(newAccount(t), kinesisapi.WithUnsignedRequests())
	for _, tc := range []struct{ op, body, message string }{
		{"PutRecord", `{"StreamName":"","Data":5}`, "class java.math.BigDecimal can not be converted to a Blob"},
		{"PutRecord", `{"StreamName":"s","PartitionKey":"k","Data":"+/+="}`, "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"},
		{"PutRecords", `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":"+/+="}]}`, "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"},
		{"PutRecords", `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":"YR=="}]}`, "'YR==' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"},
	} {
		code, msg := errorOf(t, h, tc.op, tc.body)
		require.Equal(t, "SerializationException", code, tc.body)
		require.Equal(t, tc.message, msg, tc.body)
	}
	// Canonical base64 of every length is accepted.
	for _, d := range []string{"", "YQ==", "YWI=", "YWJj", "+/+/"} {
		rec := call(h, "PutRecords", `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":"`+d+`"}]}`)
		require.Equal(t, http.StatusOK, rec.Code, d+": "+rec.Body.String())
	}
}

// TestSemanticErrorsAfterValidation: a request that meets the model gets
// the operation's own errors: a hash key above 2^128-1 matches the pattern
// but is out of range, and a missing stream is not found.
func TestSemanticErrorsAfterValidation(t *testing.T) {
	h := kinesisapi.NewHandler(newAccount(t), kinesisapi.WithUnsignedRequests())
	code, msg := errorOf(t, h, "PutRecord", `{"StreamName":"s","Data":"","PartitionKey":"k","ExplicitHashKey":"340282366920938463463374607431768211456"}`)
	require.Equal(t, "InvalidArgumentException", code, msg)
	code, _ = errorOf(t, h, "PutRecord", `{"StreamName":"nope","Data":"","PartitionKey":"k"}`)
	require.Equal(t, "ResourceNotFoundException", code)
	code, _ = errorOf(t, h, "PutRecord", `{"StreamName":"s","Data":"","PartitionKey":"k","ExplicitHashKey":"340282366920938463463374607431768211455"}`)
	require.Empty(t, code, "2^128-1 is a valid hash key")
}

// TestEveryOperationsRequiredMembers: each operation, sent an empty
// object, names its required members as missing, in AWS's order, or (with
// none required) passes validation. Expectations come from the model's
// required lists and the recorded member order.
func TestEveryOperationsRequiredMembers(t *testing.T) {
	h := kinesisapi.NewHandler(newAccount(t), kinesisapi.WithUnsignedRequests())
	null := func(members ...string) string {
		parts := make([]string, len(members))
		for i, m := range members {
			parts[i] = "Value null at '" + m + "' " + mustNotBeNull
		}
		if len(parts) == 1 {
			return "1 validation error detected: " + parts[0]
		}
		return fmt.Sprint(len(parts)) + " validation errors detected: " + strings.Join(parts, "; ")
	}
	for op, want := range map[string]string{
		"AddTagsToStream":               null("tags"),
		"CreateStream":                  null("streamName"),
		"DecreaseStreamRetentionPeriod": null("retentionPeriodHours"),
		"DisableEnhancedMonitoring":     null("shardLevelMetrics"),
		"EnableEnhancedMonitoring":      null("shardLevelMetrics"),
		"GetRecords":                    null("shardIterator"),
		"GetShardIterator":              null("shardId", "shardIteratorType"),
		"IncreaseStreamRetentionPeriod": null("retentionPeriodHours"),
		"ListStreamConsumers":           null("streamARN"),
		"MergeShards":                   null("shardToMerge", "adjacentShardToMerge"),
		"PutRecord":                     null("partitionKey", "data"),
		"PutRecords":                    null("records"),
		"RegisterStreamConsumer":        null("streamARN", "consumerName"),
		"RemoveTagsFromStream":          null("tagKeys"),
		"SplitShard":                    null("newStartingHashKey", "shardToSplit"),
		"StartStreamEncryption":         null("encryptionType", "keyId"),
		"StopStreamEncryption":          null("encryptionType", "keyId"),
		"SubscribeToShard":              null("consumerARN", "shardId", "startingPosition"),
		"UpdateShardCount":              null("targetShardCount", "scalingType"),
		"UpdateStreamMode":              null("streamARN", "streamModeDetails"),
		// Nothing required: whatever the answer, it is not a validation error.
		"DeleteStream": "", "DeregisterStreamConsumer": "", "DescribeLimits": "", "DescribeStream": "",
		"DescribeStreamConsumer": "", "DescribeStreamSummary": "", "ListShards": "", "ListStreams": "", "ListTagsForStream": "",
	} {
		code, msg := errorOf(t, h, op, `{}`)
		if want == "" {
			require.NotEqual(t, "ValidationException", code, "%s: %s", op, msg)
			continue
		}
		require.Equal(t, "ValidationException", code, op)
		require.Equal(t, want, msg, op)
	}
}

// TestEnumsInAWSOrder: each single-valued enum member lists its values in
// the order AWS does.
func TestEnumsInAWSOrder(t *testing.T) {
	h := kinesisapi.NewHandler(newAccount(t), kinesisapi.WithUnsignedRequests())
	for _, tc := range []struct{ op, body, message string }{
		{"StartStreamEncryption", `{"StreamName":"s","EncryptionType":"X","KeyId":"k"}`,
			"Value 'X' at 'encryptionType' failed to satisfy constraint: Member must satisfy enum value set: [KMS, NONE]"},
		{"UpdateShardCount", `{"StreamName":"s","TargetShardCount":2,"ScalingType":"X"}`,
			"Value 'X' at 'scalingType' failed to satisfy constraint: Member must satisfy enum value set: [UNIFORM_SCALING]"},
		{"UpdateStreamMode", `{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","StreamModeDetails":{"StreamMode":"X"}}`,
			"Value 'X' at 'streamModeDetails.streamMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]"},
		{"ListShards", `{"StreamName":"s","ShardFilter":{"Type":"X"}}`,
			"Value 'X' at 'shardFilter.type' failed to satisfy constraint: Member must satisfy enum value set: [FROM_TIMESTAMP, FROM_TRIM_HORIZON, AT_LATEST, AT_TRIM_HORIZON, AT_TIMESTAMP, AFTER_SHARD_ID]"},
	} {
		code, msg := errorOf(t, h, tc.op, tc.body)
		require.Equal(t, "ValidationException", code, tc.op)
		require.Equal(t, "1 validation error detected: "+tc.message, msg, tc.op)
	}
}
