package firehoseapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/firehose"
)

func (s *Server) create(ctx context.Context, in *createInput) (any, error) {
	name := in.target()
	def, err := s.newDefinition(in)
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return nil, err
	}
	if _, ok := s.streams[name]; ok {
		return nil, &apiError{status: http.StatusBadRequest, code: "ResourceInUseException",
			message: "Firehose " + name + " under accountId " + s.kinesis.AccountID() + " already exists"}
	}
	if len(s.streams) >= s.cfg.MaxDeliveryStreams {
		return nil, &apiError{status: http.StatusBadRequest, code: "LimitExceededException",
			message: "You have already consumed your firehose quota of " + strconv.Itoa(s.cfg.MaxDeliveryStreams) + " hoses."}
	}
	if def.Type == "DirectPut" {
		if _, err := s.store.CreateStream(context.Background(), shardlog.CreateStreamInput{StreamName: name, ShardCount: 1}); err != nil {
			return nil, err
		}
	}
	ds, err := s.deliveryStreamFor(def)
	if err == nil {
		s.streams[name] = &deliveryStream{def: *def}
		if err = s.save(); err != nil {
			delete(s.streams, name)
		}
	}
	if err != nil {
		if def.Type == "DirectPut" {
			_ = s.store.DeleteStream(context.Background(), shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: name}})
		}
		return nil, err
	}
	d := s.streams[name]
	d.swap.Lock()
	d.run(s, ds)
	d.swap.Unlock()
	return struct{ DeliveryStreamARN string }{s.arn(name)}, nil
}

// newDefinition checks a CreateDeliveryStream request beyond the model's
// constraints and returns the delivery stream it asks for.
func (s *Server) newDefinition(in *createInput) (*definition, error) {
	now := s.kinesis.Clock().Now().UTC()
	def := &definition{Name: *in.DeliveryStreamName, Type: "DirectPut", Version: 1, Created: now,
		Tags: in.Tags, Encryption: encryption{Status: "DISABLED"}}
	if in.DeliveryStreamType != nil {
		def.Type = *in.DeliveryStreamType
	}
	switch def.Type {
	case "DirectPut":
		if in.KinesisStreamSourceConfiguration != nil {
			return nil, invalidArgument("KinesisSourceStreamConfig is only allowed for KinesisStreamAsSource DeliveryStreamType.")
		}
	case "KinesisStreamAsSource":
		if in.KinesisStreamSourceConfiguration == nil {
			return nil, invalidArgument("KinesisSourceStreamConfig is required for KinesisStreamAsSource DeliveryStreamType.")
		}
		src := *in.KinesisStreamSourceConfiguration
		src.DeliveryStartTimestamp = ptr(epoch(now))
		def.Source = &src
		if in.DeliveryStreamEncryptionConfigurationInput != nil {
			return nil, invalidArgument("Encryption is not supported for KinesisStreamAsSource DeliveryStreamType: the source stream's own encryption applies.")
		}
	default:
		return nil, unsupported("DeliveryStreamType "+def.Type, "delivers from DirectPut and KinesisStreamAsSource sources")
	}
	if in.MSKSourceConfiguration != nil || in.DatabaseSourceConfiguration != nil {
		return nil, unsupported("MSKSourceConfiguration and DatabaseSourceConfiguration", "delivers from DirectPut and KinesisStreamAsSource sources")
	}
	if e := in.DeliveryStreamEncryptionConfigurationInput; e != nil {
		enc, err := encryptionOf(e)
		if err != nil {
			return nil, err
		}
		def.Encryption = enc
	}
	for _, other := range []struct {
		name string
		set  bool
	}{
		{"ElasticsearchDestinationConfiguration", in.ElasticsearchDestinationConfiguration != nil},
		{"AmazonopensearchserviceDestinationConfiguration", in.AmazonopensearchserviceDestinationConfiguration != nil},
		{"AmazonOpenSearchServerlessDestinationConfiguration", in.AmazonOpenSearchServerlessDestinationConfiguration != nil},
		{"SplunkDestinationConfiguration", in.SplunkDestinationConfiguration != nil},
		{"SnowflakeDestinationConfiguration", in.SnowflakeDestinationConfiguration != nil},
		{"IcebergDestinationConfiguration", in.IcebergDestinationConfiguration != nil},
	} {
		if other.set {
			return nil, unsupported(other.name, "delivers to S3 (a folder per bucket) and HTTP endpoints")
		}
	}
	n := 0
	for _, set := range []bool{in.S3DestinationConfiguration != nil, in.ExtendedS3DestinationConfiguration != nil,
		in.HttpEndpointDestinationConfiguration != nil, in.RedshiftDestinationConfiguration != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, invalidArgument("Exactly one destination configuration must be specified.")
	}
	var err error
	switch {
	case in.ExtendedS3DestinationConfiguration != nil:
		def.Extended = true
		def.S3, err = s.describedS3(in.ExtendedS3DestinationConfiguration, "ExtendedS3DestinationConfiguration")
	case in.S3DestinationConfiguration != nil:
		def.S3, err = s.describedS3(in.S3DestinationConfiguration, "S3DestinationConfiguration")
	case in.RedshiftDestinationConfiguration != nil:
		def.Redshift, err = s.describedRedshift(in.RedshiftDestinationConfiguration, "RedshiftDestinationConfiguration")
	default:
		def.HTTP, err = s.describedHTTP(in.HttpEndpointDestinationConfiguration, "HttpEndpointDestinationConfiguration")
	}
	if err != nil {
		return nil, err
	}
	if seen := map[string]bool{}; true {
		for _, t := range def.Tags {
			if seen[*t.Key] {
				return nil, invalidArgument("Duplicate tag key " + *t.Key + ".")
			}
			seen[*t.Key] = true
		}
	}
	return def, nil
}

// handOver lets mu (held) go and runs f with d's swap held, taken first,
// so that the running delivery stream changes in the order its
// definition did, and no other call waits on the stop of the old one.
func (s *Server) handOver(d *deliveryStream, f func()) {
	d.swap.Lock()
	s.mu.Unlock()
	defer d.swap.Unlock()
	f()
}

// usable fails once the server is closed. Call with mu held.
func (s *Server) usable() error {
	if s.closed {
		return &apiError{status: http.StatusServiceUnavailable, code: "ServiceUnavailableException", message: "The server is shutting down."}
	}
	return nil
}

// lookup returns the delivery stream name, after the caller was
// authorized for it. Call with mu held.
func (s *Server) lookup(name string) (*deliveryStream, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	d, ok := s.streams[name]
	if !ok {
		return nil, s.notFound(name)
	}
	return d, nil
}

func (s *Server) describe(ctx context.Context, in *describeInput) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.lookup(in.target())
	if err != nil {
		return nil, err
	}
	out := d.def.describe(s)
	if f := d.failed(); f != "" {
		out.FailureDescription = &failureDescription{Type: "UNKNOWN_ERROR", Details: f}
	}
	if in.ExclusiveStartDestinationId != nil && *in.ExclusiveStartDestinationId >= destinationID {
		out.Destinations = []destinationDescription{}
	}
	return struct{ DeliveryStreamDescription description }{out}, nil
}

func (s *Server) list(ctx context.Context, in *listInput) (any, error) {
	limit := 10
	if in.Limit != nil {
		limit = *in.Limit
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return nil, err
	}
	names := []string{}
	for name, d := range s.streams {
		if (in.DeliveryStreamType == nil || d.def.Type == *in.DeliveryStreamType) && name > str(in.ExclusiveStartDeliveryStreamName) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	more := len(names) > limit
	if more {
		names = names[:limit]
	}
	return struct {
		DeliveryStreamNames    []string
		HasMoreDeliveryStreams bool
	}{names, more}, nil
}

func (s *Server) delete(ctx context.Context, in *deleteInput) (any, error) {
	name := in.target()
	s.mu.Lock()
	d, err := s.lookup(name)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	delete(s.streams, name)
	if err := s.save(); err != nil {
		s.streams[name] = d
		s.mu.Unlock()
		return nil, err
	}
	s.handOver(d, d.stopLocked)
	if d.def.Type == "DirectPut" {
		// What it held and did not deliver goes with it, as on Firehose.
		if err := s.store.DeleteStream(context.Background(), shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: name}}); err != nil {
			s.log.Warn("could not delete a deleted delivery stream's records", "deliveryStream", name, "err", err)
		}
	}
	return struct{}{}, nil
}

func (s *Server) update(ctx context.Context, in *updateInput) (any, error) {
	name := in.target()
	s.mu.Lock()
	d, err := s.lookup(name)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	def := d.def
	if want := strconv.Itoa(def.Version); *in.CurrentDeliveryStreamVersionId != want {
		s.mu.Unlock()
		return nil, &apiError{status: http.StatusBadRequest, code: "ConcurrentModificationException",
			message: "Cannot update firehose: " + name + " since the current version id: " + want +
				" and specified version id: " + *in.CurrentDeliveryStreamVersionId + " does not match"}
	}
	if *in.DestinationId != destinationID {
		s.mu.Unlock()
		return nil, invalidArgument("Destination Id " + *in.DestinationId + " not found.")
	}
	next, err := s.updated(def, in)
	var ds *firehose.DeliveryStream
	if err == nil {
		ds, err = s.deliveryStreamFor(next)
	}
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	d.def = *next
	if err := s.save(); err != nil {
		d.def = def
		s.mu.Unlock()
		return nil, err
	}
	s.handOver(d, func() { d.run(s, ds) })
	return struct{}{}, nil
}

// updated is def with in's update applied: members given replace those
// of the destination, of the same type.
func (s *Server) updated(def definition, in *updateInput) (*definition, error) {
	for _, other := range [][]byte{in.RedshiftDestinationUpdate, in.ElasticsearchDestinationUpdate, in.AmazonopensearchserviceDestinationUpdate,
		in.AmazonOpenSearchServerlessDestinationUpdate, in.SplunkDestinationUpdate, in.SnowflakeDestinationUpdate, in.IcebergDestinationUpdate} {
		if other != nil {
			return nil, unsupported("The destination update", "updates S3 and HTTP endpoint destinations only")
		}
	}
	s3u := in.ExtendedS3DestinationUpdate
	if s3u == nil {
		s3u = in.S3DestinationUpdate
	}
	var err error
	switch {
	case s3u != nil && in.HttpEndpointDestinationUpdate != nil:
		return nil, invalidArgument("Exactly one destination update must be specified.")
	case s3u != nil:
		if def.S3 == nil {
			return nil, unsupported("Changing a destination to S3", "keeps a destination's type")
		}
		if u := s3u.DynamicPartitioningConfiguration; u != nil && u.Enabled != nil && *u.Enabled != partitioned(def.S3) {
			return nil, invalidArgument("Dynamic partitioning cannot be enabled or disabled on an existing delivery stream.")
		}
		def.S3, err = s.describedS3(mergeS3(def.S3, s3u), "ExtendedS3DestinationUpdate")
	case in.HttpEndpointDestinationUpdate != nil:
		if def.HTTP == nil {
			return nil, unsupported("Changing a destination to an HttpEndpoint", "keeps a destination's type")
		}
		u := in.HttpEndpointDestinationUpdate
		h := *def.HTTP
		if u.EndpointConfiguration != nil {
			e := *h.EndpointConfiguration
			e.Url = u.EndpointConfiguration.Url
			if u.EndpointConfiguration.Name != nil {
				e.Name = u.EndpointConfiguration.Name
			}
			if u.EndpointConfiguration.AccessKey != nil {
				e.AccessKey = u.EndpointConfiguration.AccessKey
			}
			h.EndpointConfiguration = &e
		}
		h.BufferingHints = mergeHints(h.BufferingHints, u.BufferingHints)
		h.CloudWatchLoggingOptions = or(u.CloudWatchLoggingOptions, h.CloudWatchLoggingOptions)
		h.RequestConfiguration = or(u.RequestConfiguration, h.RequestConfiguration)
		h.ProcessingConfiguration = or(u.ProcessingConfiguration, h.ProcessingConfiguration)
		h.RoleARN = or(u.RoleARN, h.RoleARN)
		h.RetryOptions = or(u.RetryOptions, h.RetryOptions)
		h.S3BackupMode = or(u.S3BackupMode, h.S3BackupMode)
		h.SecretsManagerConfiguration = or(u.SecretsManagerConfiguration, h.SecretsManagerConfiguration)
		if u.S3Update != nil {
			h.S3DestinationDescription = mergeS3(h.S3DestinationDescription, u.S3Update)
		}
		def.HTTP, err = s.describedHTTP(&h, "HttpEndpointDestinationUpdate")
	}
	if err != nil {
		return nil, err
	}
	def.Version++
	def.Updated = s.kinesis.Clock().Now().UTC()
	return &def, nil
}

func or[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

func mergeHints(old, u *bufferingHints) *bufferingHints {
	if u == nil {
		return old
	}
	out := *old
	out.SizeInMBs = or(u.SizeInMBs, out.SizeInMBs)
	out.IntervalInSeconds = or(u.IntervalInSeconds, out.IntervalInSeconds)
	return &out
}

func mergeS3(old, u *s3Destination) *s3Destination {
	out := *old
	out.RoleARN = or(u.RoleARN, out.RoleARN)
	out.BucketARN = or(u.BucketARN, out.BucketARN)
	out.Prefix = or(u.Prefix, out.Prefix)
	out.ErrorOutputPrefix = or(u.ErrorOutputPrefix, out.ErrorOutputPrefix)
	out.BufferingHints = mergeHints(out.BufferingHints, u.BufferingHints)
	out.CompressionFormat = or(u.CompressionFormat, out.CompressionFormat)
	out.EncryptionConfiguration = or(u.EncryptionConfiguration, out.EncryptionConfiguration)
	out.CloudWatchLoggingOptions = or(u.CloudWatchLoggingOptions, out.CloudWatchLoggingOptions)
	out.ProcessingConfiguration = or(u.ProcessingConfiguration, out.ProcessingConfiguration)
	out.S3BackupMode = or(u.S3BackupMode, out.S3BackupMode)
	out.S3BackupConfiguration = u.S3BackupUpdate
	out.S3BackupUpdate = nil
	out.DataFormatConversionConfiguration = or(u.DataFormatConversionConfiguration, out.DataFormatConversionConfiguration)
	out.DynamicPartitioningConfiguration = or(u.DynamicPartitioningConfiguration, out.DynamicPartitioningConfiguration)
	out.FileExtension = or(u.FileExtension, out.FileExtension)
	out.CustomTimeZone = or(u.CustomTimeZone, out.CustomTimeZone)
	return &out
}
