package producer

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/shardlog/shardlog"
)

// Kinesis's bounds on a PutRecords call and on a record.
const (
	maxBatchRecords = 500
	maxBatchBytes   = 5 << 20
	maxRecordBytes  = 1 << 20
)

// Config configures a Producer. The zero value takes the Kinesis Producer
// Library's defaults.
type Config struct {
	// MaxBufferedTime is how long a record may wait for others to share
	// its PutRecords call: the KPL's RecordMaxBufferedTime. Default 100 ms.
	MaxBufferedTime time.Duration
	// MaxBatchRecords and MaxBatchBytes bound one PutRecords call: at most
	// (and by default) 500 records and 5 MiB.
	MaxBatchRecords int
	MaxBatchBytes   int
	// Aggregation packs user records that map to the same shard into
	// Kinesis records in the KPL's format, which consumers that
	// deaggregate (the KCL, shardlog.Deaggregate, consumer groups with
	// Deaggregate) unpack. Default off: every user record is a Kinesis
	// record of its own.
	Aggregation bool
	// AggregationMaxCount and AggregationMaxSize bound one aggregate: by
	// default 4 294 967 295 records (no bound) and 51 200 bytes, the KPL's;
	// the size is at most 1 MiB, Kinesis's record limit.
	AggregationMaxCount int
	AggregationMaxSize  int
	// MaxInFlightPerShard is how many PutRecords calls may carry records
	// of one shard at once. Default 4. OrderPerKey makes it 1.
	MaxInFlightPerShard int
	// OrderPerKey keeps the records of each partition key in the order
	// they were put, retries included: one call at a time per shard. That
	// costs throughput where calls are slow (one round trip per batch per
	// shard), which is why the KPL does not do it by default.
	OrderPerKey bool
	// RecordTTL is how long a record may be retried after it was put,
	// before its Result fails with the last error: the KPL's RecordTtl.
	// Default 30 s.
	RecordTTL time.Duration
	// RateLimit caps what the producer sends to a shard, in percent of
	// Kinesis's shard limits (1 MiB and 1 000 records a second), so that a
	// hot producer waits instead of burning retries on throttling: the
	// KPL's RateLimit. Default 150; a negative value turns it off.
	RateLimit int
	// MaxBufferedRecords and MaxBufferedBytes bound the records put and
	// not yet done. Put blocks for room (or fails with ErrBufferFull, with
	// FailWhenFull). Defaults 100 000 records and 64 MiB.
	MaxBufferedRecords int
	MaxBufferedBytes   int64
	FailWhenFull       bool
	// SpoolDir, if set, makes Put durable before it returns: the record is
	// appended to a local durable stream in this directory, and forwarded
	// to the stream from there, so that a crash of the process or an
	// outage of the destination, however long, loses nothing Put
	// acknowledged. Forwarding resumes after a restart where it stopped, at
	// least once and in order. Spooled records are retried until stored
	// (RecordTTL does not apply); records the destination refuses for good
	// (a stream that is gone) fail their Result and are passed over.
	SpoolDir string
	// SpoolMaxBytes bounds the spooled records not yet forwarded: Put
	// waits for room (or fails with ErrSpoolFull, with FailWhenFull).
	// Default 1 GiB.
	SpoolMaxBytes int64
	// Clock times lingering, backoff and rate limits. Default the system
	// clock; a test gives its account's ManualClock.
	Clock shardlog.Clock
	// Logger logs what a caller cannot see in its Results (a shard map
	// that could not be read). Default slog.Default().
	Logger *slog.Logger
}

// ErrInvalidConfig is the error of New for a bad Config; the message names
// the field.
var ErrInvalidConfig = errors.New("producer: invalid Config")

func configError(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...))
}

// withDefaults checks c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.MaxBufferedTime < 0:
		return c, configError("MaxBufferedTime", "is negative")
	case c.MaxBatchRecords < 0 || c.MaxBatchRecords > maxBatchRecords:
		return c, configError("MaxBatchRecords", "is outside [1, %d]", maxBatchRecords)
	case c.MaxBatchBytes < 0 || c.MaxBatchBytes > maxBatchBytes:
		return c, configError("MaxBatchBytes", "is outside [1, %d]", maxBatchBytes)
	case c.AggregationMaxCount < 0:
		return c, configError("AggregationMaxCount", "is negative")
	case c.AggregationMaxSize < 0 || c.AggregationMaxSize > maxRecordBytes:
		return c, configError("AggregationMaxSize", "is outside [1, %d]", maxRecordBytes)
	case c.MaxInFlightPerShard < 0:
		return c, configError("MaxInFlightPerShard", "is negative")
	case c.RecordTTL < 0:
		return c, configError("RecordTTL", "is negative")
	case c.MaxBufferedRecords < 0:
		return c, configError("MaxBufferedRecords", "is negative")
	case c.MaxBufferedBytes < 0:
		return c, configError("MaxBufferedBytes", "is negative")
	case c.SpoolMaxBytes < 0:
		return c, configError("SpoolMaxBytes", "is negative")
	}
	if c.SpoolMaxBytes == 0 {
		c.SpoolMaxBytes = 1 << 30
	}
	if c.MaxBufferedTime == 0 {
		c.MaxBufferedTime = 100 * time.Millisecond
	}
	if c.MaxBatchRecords == 0 {
		c.MaxBatchRecords = maxBatchRecords
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = maxBatchBytes
	}
	if c.AggregationMaxCount == 0 {
		c.AggregationMaxCount = 1<<32 - 1
	}
	if c.AggregationMaxSize == 0 {
		c.AggregationMaxSize = 51200
	}
	if c.MaxInFlightPerShard == 0 {
		c.MaxInFlightPerShard = 4
	}
	if c.OrderPerKey {
		c.MaxInFlightPerShard = 1
	}
	if c.RecordTTL == 0 {
		c.RecordTTL = 30 * time.Second
	}
	if c.RateLimit == 0 {
		c.RateLimit = 150
	}
	if c.MaxBufferedRecords == 0 {
		c.MaxBufferedRecords = 100_000
	}
	if c.MaxBufferedBytes == 0 {
		c.MaxBufferedBytes = 64 << 20
	}
	if c.Clock == nil {
		c.Clock = shardlog.SystemClock()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
