package firehoseapi

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/shardlog/shardlog/firehose"
)

// definition is a delivery stream as made and updated through the API,
// kept in deliverystreams.json: enough to describe it and to run it again.
type definition struct {
	Name       string
	Type       string // DirectPut or KinesisStreamAsSource
	Version    int
	Created    time.Time
	Updated    time.Time            `json:",omitzero"`
	Source     *kinesisSource       `json:",omitempty"`
	S3         *s3Destination       `json:",omitempty"` // an S3 or ExtendedS3 destination, described
	Extended   bool                 `json:",omitempty"` // S3 was made as ExtendedS3
	HTTP       *httpDestination     `json:",omitempty"` // an HttpEndpoint destination, described, with its access key
	Redshift   *redshiftDestination `json:",omitempty"` // a Redshift destination, described, with its password
	Tags       []tag                `json:",omitempty"`
	Encryption encryption
	// EncryptionCalls are the times of the last Start and Stop of its
	// encryption, for Firehose's quota of 25 a day.
	EncryptionCalls []time.Time `json:",omitempty"`
}

// destinationID is the one destination's ID: Firehose delivers to one.
const destinationID = "destinationId-000000000001"

// deliveryStream is a delivery stream the Server runs.
type deliveryStream struct {
	def definition // guarded by Server.mu

	// swap is held while the running delivery stream is replaced or
	// stopped; Server.mu is taken first, so that swaps happen in the
	// order of the definitions' versions.
	swap sync.Mutex

	mu      sync.Mutex
	ds      *firehose.DeliveryStream // nil if it could not be started
	cancel  context.CancelFunc
	done    chan struct{}
	failure string // why it does not deliver, if it does not
}

// fail notes why the delivery stream does not deliver, for
// DescribeDeliveryStream's FailureDescription and the log.
func (d *deliveryStream) fail(s *Server, err error) {
	d.mu.Lock()
	d.failure = err.Error()
	d.mu.Unlock()
	s.log.Warn("a delivery stream does not deliver", "deliveryStream", d.def.Name, "err", err)
}

// failed says why the delivery stream does not deliver, or "".
func (d *deliveryStream) failed() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.failure
}

// running returns the delivery stream taking records, or nil.
func (d *deliveryStream) running() *firehose.DeliveryStream {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ds
}

// run starts ds in place of the running one, which is stopped first.
// Call with swap held.
func (d *deliveryStream) run(s *Server, ds *firehose.DeliveryStream) {
	d.stopLocked()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	d.mu.Lock()
	d.ds, d.cancel, d.done, d.failure = ds, cancel, done, ""
	d.mu.Unlock()
	go func() {
		defer close(done)
		if err := ds.Run(ctx); err != nil && ctx.Err() == nil {
			d.fail(s, err)
		}
	}()
}

// stop stops the running delivery stream: it delivers what it buffered
// once more.
func (d *deliveryStream) stop() {
	d.swap.Lock()
	defer d.swap.Unlock()
	d.stopLocked()
}

func (d *deliveryStream) stopLocked() {
	d.mu.Lock()
	cancel, done := d.cancel, d.done
	d.ds, d.cancel, d.done = nil, nil, nil
	d.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// describe is the definition in DescribeDeliveryStream's words.
func (def *definition) describe(s *Server) description {
	out := description{
		DeliveryStreamName:   def.Name,
		DeliveryStreamARN:    s.arn(def.Name),
		DeliveryStreamStatus: "ACTIVE",
		DeliveryStreamType:   def.Type,
		VersionId:            strconv.Itoa(def.Version),
		CreateTimestamp:      epoch(def.Created),
		Destinations:         []destinationDescription{{DestinationId: destinationID}},
	}
	enc := def.Encryption
	out.DeliveryStreamEncryptionConfiguration = &enc
	if !def.Updated.IsZero() {
		u := epoch(def.Updated)
		out.LastUpdateTimestamp = &u
	}
	if def.Source != nil {
		out.Source = &sourceDescription{KinesisStreamSourceDescription: def.Source}
	}
	dest := &out.Destinations[0]
	switch {
	case def.S3 != nil:
		dest.S3DestinationDescription = plainS3(def.S3)
		dest.ExtendedS3DestinationDescription = def.S3
	case def.Redshift != nil:
		r := *def.Redshift
		r.Password = nil // never described
		dest.RedshiftDestinationDescription = &r
	case def.HTTP != nil:
		h := *def.HTTP
		e := *h.EndpointConfiguration
		e.AccessKey = nil // never described
		h.EndpointConfiguration = &e
		dest.HttpEndpointDestinationDescription = &h
	}
	return out
}

// plainS3 is an S3 destination's description without ExtendedS3's
// members.
func plainS3(d *s3Destination) *s3Destination {
	return &s3Destination{RoleARN: d.RoleARN, BucketARN: d.BucketARN, Prefix: d.Prefix, ErrorOutputPrefix: d.ErrorOutputPrefix,
		BufferingHints: d.BufferingHints, CompressionFormat: d.CompressionFormat, EncryptionConfiguration: d.EncryptionConfiguration,
		CloudWatchLoggingOptions: d.CloudWatchLoggingOptions}
}
