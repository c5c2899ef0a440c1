package firehose

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// Partitioning is Firehose's dynamic partitioning: each record's partition
// keys — from Query, and from the Processor's results
// (ProcessorResult.PartitionKeys, Firehose's partitionKeyFromLambda) —
// fill the Prefix's !{partitionKeyFromQuery:<key>} and
// !{partitionKeyFromLambda:<key>} expressions, and records go to the
// object of their partition. A record whose keys cannot be had, or that
// would make a partition past MaxPartitions, goes to the error output
// (errorCode DynamicPartitioning.MetadataExtractionFailed or
// DynamicPartitioning.ActivePartitionsExceeded) instead.
//
// As on Firehose, it needs an ErrorOutputPrefix, a Prefix with a
// partition key, an object destination (not an HTTP endpoint) and a
// buffering interval over zero. A shard's partitions are delivered
// together, when their records in all reach the buffering size or the
// oldest its interval: objects may be smaller than Firehose's, never
// later.
type Partitioning struct {
	// Query extracts keys from JSON records: the part of jq Firehose's
	// MetadataExtractionQuery examples use, {key: .path, ...} (see
	// query). Empty: keys come from the Processor only.
	Query string
	// MaxPartitions bounds the partitions a shard buffers at once:
	// Firehose's 500 active partitions by default.
	MaxPartitions int
}

const (
	codeExtractionFailed   = "DynamicPartitioning.MetadataExtractionFailed"
	codePartitionsExceeded = "DynamicPartitioning.ActivePartitionsExceeded"
)

// partition is one partition a shard buffers: its keys' values, and where
// its records are in the buffer.
type partition struct {
	query   query
	values  []string          // the query's keys, in its order
	lambda  map[string]string // the Processor's keys
	oldest  time.Time         // arrival of its oldest record
	records []int             // its records, by index in the buffer
}

// value is the partition's key name of kind.
func (p *partition) value(kind int, name string) string {
	if kind == fromLambda {
		return p.lambda[name]
	}
	return p.values[p.query.index(name)]
}

// partitionID is the partition's identity: its keys' values.
func partitionID(values []string, lambda map[string]string) string {
	var b strings.Builder
	for _, v := range values {
		b.WriteString(v)
		b.WriteByte(0)
	}
	for _, k := range slices.Sorted(maps.Keys(lambda)) {
		b.WriteString(k)
		b.WriteByte(1)
		b.WriteString(lambda[k])
		b.WriteByte(0)
	}
	return b.String()
}

// checkPartitioning checks a configuration's dynamic partitioning and
// returns its query.
func (c Config) checkPartitioning(p prefix) (query, error) {
	part := c.Partitioning
	var q query
	if part.Query != "" {
		var err error
		if q, err = parseQuery(part.Query); err != nil {
			return nil, err
		}
	}
	if _, ok := c.Destination.(RecordDestination); ok {
		return nil, invalid("Dynamic partitioning delivers to objects: an HTTP endpoint destination cannot have it.")
	}
	if c.Buffering.IntervalInSeconds == 0 {
		return nil, invalid("Dynamic partitioning needs a buffering interval over zero seconds.")
	}
	for _, k := range p.keysUsed(fromQuery) {
		if q.index(k) < 0 {
			return nil, invalid("Prefix uses !{partitionKeyFromQuery:%s}, which the query does not extract.", k)
		}
	}
	if len(p.keysUsed(fromLambda)) > 0 && c.Processor == nil {
		return nil, invalid("Prefix uses !{partitionKeyFromLambda:…}, which needs a Processor.")
	}
	return q, nil
}
