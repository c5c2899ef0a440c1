package main

// awsOrder is the order in which AWS lists the violations of an input
// shape's members, where responses recorded against AWS show it (the
// validation tests of kinesalite were recorded that way). The model's own
// member order differs. Members not named here follow, in model order.
var awsOrder = map[string][]string{
	"AddTagsToStreamInput":               {"Tags", "StreamName"},
	"CreateStreamInput":                  {"ShardCount", "StreamName"},
	"DecreaseStreamRetentionPeriodInput": {"RetentionPeriodHours", "StreamName"},
	"DescribeStreamInput":                {"Limit", "ExclusiveStartShardId", "StreamName"},
	"GetRecordsInput":                    {"Limit", "ShardIterator"},
	"GetShardIteratorInput":              {"ShardId", "ShardIteratorType", "StartingSequenceNumber", "StreamName", "Timestamp"},
	"IncreaseStreamRetentionPeriodInput": {"RetentionPeriodHours", "StreamName"},
	"ListShardsInput":                    {"ExclusiveStartShardId", "MaxResults", "NextToken", "StreamCreationTimestamp", "StreamName"},
	"ListStreamsInput":                   {"Limit", "ExclusiveStartStreamName"},
	"ListTagsForStreamInput":             {"Limit", "ExclusiveStartTagKey", "StreamName"},
	"MergeShardsInput":                   {"ShardToMerge", "AdjacentShardToMerge", "StreamName"},
	"PutRecordInput":                     {"SequenceNumberForOrdering", "PartitionKey", "ExplicitHashKey", "Data", "StreamName"},
	"PutRecordsInput":                    {"Records", "StreamName"},
	"PutRecordsRequestEntry":             {"PartitionKey", "ExplicitHashKey", "Data"},
	"RemoveTagsFromStreamInput":          {"TagKeys", "StreamName"},
	"SplitShardInput":                    {"NewStartingHashKey", "StreamName", "ShardToSplit"},
}

// javaHashOrder sorts an enum's values as AWS lists them in "Member must
// satisfy enum value set: [...]": by the low four bits of Java's
// String.hashCode, the bucket order of a small Java hash set, and by model
// order within a bucket. Four messages recorded from AWS services
// (ShardIteratorType with four and with five values, DynamoDB's
// ReturnConsumedCapacity, Cognito's MfaConfiguration) all follow it.
func javaHashOrder(values []string) []string {
	bucket := func(s string) int32 {
		var h int32
		for _, r := range s {
			h = 31*h + r // Java hashes UTF-16 units; enum values are ASCII
		}
		return h & 15
	}
	out := append([]string(nil), values...)
	// Insertion sort: stable, and enums are short.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && bucket(out[j]) < bucket(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
