package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestJavaHashOrder: enum values come out in the order of messages
// recorded from AWS services, given the model's order.
func TestJavaHashOrder(t *testing.T) {
	for _, tc := range []struct{ model, aws string }{
		{"AT_SEQUENCE_NUMBER AFTER_SEQUENCE_NUMBER TRIM_HORIZON LATEST", "AFTER_SEQUENCE_NUMBER LATEST AT_SEQUENCE_NUMBER TRIM_HORIZON"},
		{"AT_SEQUENCE_NUMBER AFTER_SEQUENCE_NUMBER TRIM_HORIZON LATEST AT_TIMESTAMP", "AFTER_SEQUENCE_NUMBER LATEST AT_TIMESTAMP AT_SEQUENCE_NUMBER TRIM_HORIZON"},
		{"INDEXES TOTAL NONE", "INDEXES TOTAL NONE"},
		{"OFF ON OPTIONAL", "OPTIONAL OFF ON"},
	} {
		require.Equal(t, strings.Fields(tc.aws), javaHashOrder(strings.Fields(tc.model)))
	}
}

// TestGenerate: a small model becomes shapes with their constraints,
// members in AWS's order (recorded ones first), and a table by operation.
func TestGenerate(t *testing.T) {
	model := `{"operations":{"PutRecords":{"input":{"shape":"PutRecordsInput"}},"ListStreams":{}},
	"shapes":{
	  "PutRecordsInput":{"type":"structure","required":["Records"],"members":{"StreamName":{"shape":"StreamName"},"Records":{"shape":"List"},"StreamARN":{"shape":"StreamName"}}},
	  "List":{"type":"list","member":{"shape":"Entry"},"min":1,"max":500},
	  "Entry":{"type":"structure","members":{"Data":{"shape":"Data"}}},
	  "Data":{"type":"blob","min":0,"max":1048576},
	  "StreamName":{"type":"string","min":1,"max":128,"pattern":"[a-zA-Z0-9_.-]+"}}}`
	src, err := generate([]byte(model), "kinesisapi", "Kinesis", "test", awsOrder)
	require.NoError(t, err)
	out := string(src)
	for _, want := range []string{
		`"PutRecords": shapePutRecordsInput,`,
		`{Name: "Records", Required: true, Shape: shapeList}`,
		`Pattern: "[a-zA-Z0-9_.-]+"`,
		`HasMax: true, Max: 1048576`,
	} {
		require.Contains(t, out, want)
	}
	records := strings.Index(out, `{Name: "Records", Required`)
	name := strings.Index(out, `{Name: "StreamName", Required`)
	arn := strings.Index(out, `{Name: "StreamARN", Required`)
	require.True(t, records < name && name < arn, "Records, then StreamName (recorded), then StreamARN (model order)")
	require.NotContains(t, out, "ListStreams", "operations without input are left out")

	_, err = generate([]byte(`{"operations":{"X":{"input":{"shape":"Nope"}}},"shapes":{}}`), "kinesisapi", "Kinesis", "test", nil)
	require.ErrorContains(t, err, "Nope")
}

// TestGenerateRates: the documentation's rate sentences become the table,
// in words or digits, per account, stream or shard; data-plane operations
// and operations without a sentence are left out.
func TestGenerateRates(t *testing.T) {
	docs := `{"operations":{
	  "CreateStream":"<p>CreateStream has a limit of five transactions per second per account.</p>",
	  "ListShards":"<p>This operation has a limit of 1000 transactions per second per data stream.</p>",
	  "GetShardIterator":"<p>GetShardIterator has a limit of five transactions per second per account per open shard.</p>",
	  "DescribeLimits":"<p>This operation has a limit of one transaction per second per account.</p>",
	  "GetRecords":"<p>This operation has a limit of five transactions per second per shard.</p>",
	  "PutRecord":"<p>Writes.</p>"}}`
	src, err := generateRates([]byte(docs))
	require.NoError(t, err)
	out := string(src)
	for _, want := range []string{`"CreateStream":     {5, perAccount}`, `"ListShards":       {1000, perStream}`,
		`"GetShardIterator": {5, perShard}`, `"DescribeLimits":   {1, perAccount}`} {
		require.Contains(t, out, want)
	}
	require.NotContains(t, out, "GetRecords")
	require.NotContains(t, out, "PutRecord")

	_, err = generateRates([]byte(`{"operations":{"X":"X has a limit of many transactions per second per account."}}`))
	require.ErrorContains(t, err, "many")
}
