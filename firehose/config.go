package firehose

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/shardlog/shardlog"
)

// Config configures a delivery stream.
type Config struct {
	// Name is the delivery stream's: 1 to 64 of [a-zA-Z0-9_.-]. It names
	// its objects and its consumer group (firehose-<Name>).
	Name string
	// Source is the stream delivered: a stream of Firehose's
	// KinesisStreamAsSource, or the stream a direct-put delivery stream
	// keeps its records in (see DirectPut).
	Source shardlog.StreamAPI
	// DirectPut makes the delivery stream take PutRecord and
	// PutRecordBatch, writing them to Source; without it they fail, as on
	// a KinesisStreamAsSource delivery stream.
	DirectPut bool
	// Leases keeps the consumer group's leases: required for a Source
	// other than a *shardlog.Stream (see shardlog.RunWorker).
	Leases shardlog.LeaseStore

	// Destination receives the objects. Required.
	Destination Destination
	// Backup receives, under ErrorOutputPrefix, the objects Destination
	// failed to take for RetryDuration, and the records Processor failed.
	// Without it, failed records are written to Destination under
	// ErrorOutputPrefix, and a delivery is retried until it succeeds.
	Backup Destination
	// Buffering says when an object is delivered: once a shard has
	// buffered SizeInMBs, or IntervalInSeconds after its first buffered
	// record, whichever comes first.
	Buffering BufferingHints
	// Prefix and ErrorOutputPrefix start the objects' keys, as Firehose's
	// S3 prefixes do (see Key).
	Prefix            string
	ErrorOutputPrefix string
	// Compression is UNCOMPRESSED (the default), GZIP, ZIP, Snappy or
	// HADOOP_SNAPPY.
	Compression Compression
	// AppendNewline ends each record with a newline as it is buffered,
	// as Firehose's AppendDelimiterToRecord processor does.
	AppendNewline bool
	// Partitioning, if set, partitions the records dynamically (see
	// Partitioning).
	Partitioning *Partitioning
	// Processor, if set, transforms the records before they are buffered,
	// as a Firehose Lambda does; ProcessorARN names it in failure records.
	Processor    Processor
	ProcessorARN string
	// RetryDuration is how long a failing delivery is retried before the
	// object goes to Backup. Default 300 s; 0 to 7 200 s.
	RetryDuration time.Duration

	// Version is the delivery stream's configuration version, which its
	// object names carry, as Firehose's do. Default 1.
	Version int
	// Application names the consumer group that reads Source. Default
	// firehose-<Name>.
	Application string
	// StartTime is when a KinesisStreamAsSource delivery stream starts
	// reading its shards that hold no checkpoint yet: Firehose's
	// DeliveryStartTimestamp. Default: when New is called. Give the first
	// one again when the delivery stream is made anew after a restart.
	StartTime time.Time

	// Clock times buffering and retries: the source account's clock
	// where it is a *shardlog.Stream, else the wall clock.
	Clock  shardlog.Clock
	Logger *slog.Logger
}

// BufferingHints are Firehose's: SizeInMBs 1 to 128 (default 5) and
// IntervalInSeconds 0 to 900 (default 300).
type BufferingHints struct {
	SizeInMBs         int
	IntervalInSeconds int
}

// Compression is how objects are compressed.
type Compression string

// ErrInvalidArgument is Firehose's InvalidArgumentException: a bad
// configuration or request.
var ErrInvalidArgument = shardlog.ErrInvalidArgument

// ErrServiceUnavailable is Firehose's ServiceUnavailableException: the
// stream could not take a record now; send it again.
var ErrServiceUnavailable = &shardlog.Error{Code: "ServiceUnavailableException"}

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)

func invalid(format string, args ...any) error {
	return &shardlog.Error{Code: ErrInvalidArgument.Code, Message: fmt.Sprintf(format, args...)}
}

// withDefaults checks c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	switch {
	case !nameRE.MatchString(c.Name):
		return c, invalid("DeliveryStreamName %q must be 1 to 64 of [a-zA-Z0-9_.-].", c.Name)
	case c.Source == nil:
		return c, invalid("a delivery stream needs a Source.")
	case c.Destination == nil:
		return c, invalid("a delivery stream needs a Destination.")
	}
	if c.Buffering.SizeInMBs == 0 && c.Buffering.IntervalInSeconds == 0 {
		c.Buffering = BufferingHints{SizeInMBs: 5, IntervalInSeconds: 300}
	}
	if c.Buffering.SizeInMBs < 1 || c.Buffering.SizeInMBs > 128 {
		return c, invalid("BufferingHints.SizeInMBs %d is outside [1, 128].", c.Buffering.SizeInMBs)
	}
	if c.Buffering.IntervalInSeconds < 0 || c.Buffering.IntervalInSeconds > 900 {
		return c, invalid("BufferingHints.IntervalInSeconds %d is outside [0, 900].", c.Buffering.IntervalInSeconds)
	}
	switch c.Compression {
	case "":
		c.Compression = Uncompressed
	case Uncompressed, GZIP, ZIP, Snappy, HadoopSnappy:
	default:
		return c, invalid("CompressionFormat %q is not UNCOMPRESSED, GZIP, ZIP, Snappy or HADOOP_SNAPPY.", c.Compression)
	}
	switch {
	case c.RetryDuration == 0:
		c.RetryDuration = 300 * time.Second
	case c.RetryDuration < 0 || c.RetryDuration > 7200*time.Second:
		return c, invalid("RetryOptions.DurationInSeconds %v is outside [0, 7200].", c.RetryDuration.Seconds())
	}
	if err := checkPrefixes(c.Prefix, c.ErrorOutputPrefix, c.Partitioning != nil); err != nil {
		return c, err
	}
	if c.Partitioning != nil {
		part := *c.Partitioning
		switch {
		case part.MaxPartitions == 0:
			part.MaxPartitions = 500
		case part.MaxPartitions < 0:
			return c, invalid("Partitioning.MaxPartitions %d is negative.", part.MaxPartitions)
		}
		c.Partitioning = &part
	}
	if c.Clock == nil {
		c.Clock = shardlog.SystemClock()
		if s, ok := c.Source.(*shardlog.Stream); ok {
			c.Clock = s.Account().Clock()
		}
	}
	if c.Version == 0 {
		c.Version = 1
	}
	if c.Application == "" {
		c.Application = "firehose-" + c.Name
	}
	if c.StartTime.IsZero() {
		c.StartTime = c.Clock.Now()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// notDirectPut is Firehose's message for a put to a delivery stream that
// reads a Kinesis stream.
const notDirectPut = "This operation is not permitted on KinesisStreamAsSource delivery stream type."
