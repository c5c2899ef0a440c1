package firehoseapi

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/firehose"
)

// bucketARN is an S3 bucket's ARN, as Firehose accepts it.
var bucketARN = regexp.MustCompile(`^arn:.*:s3:::([\w.\-]{1,255})$`)

// bucket is the folder an S3 destination writes to.
func (s *Server) bucket(arn string) (firehose.Destination, error) {
	m := bucketARN.FindStringSubmatch(arn)
	if m == nil || m[1] == "." || m[1] == ".." {
		return nil, invalidArgument("BucketARN " + arn + " does not name an S3 bucket (arn:aws:s3:::<bucket>).")
	}
	if s.cfg.Bucket != nil {
		return s.cfg.Bucket(m[1])
	}
	return firehose.Dir(filepath.Join(s.cfg.Buckets, m[1])), nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

// describedS3 fills in an S3 destination's defaults, as Firehose
// describes it, refusing what shardlog does not deliver.
func (s *Server) describedS3(d *s3Destination, path string) (*s3Destination, error) {
	out := *d
	if out.Prefix == nil {
		out.Prefix = ptr("")
	}
	out.BufferingHints = hints(d.BufferingHints)
	if out.CompressionFormat == nil {
		out.CompressionFormat = ptr(string(firehose.Uncompressed))
	}
	if out.EncryptionConfiguration == nil {
		out.EncryptionConfiguration = &s3Encryption{NoEncryptionConfig: ptr("NoEncryption")}
	}
	if out.CloudWatchLoggingOptions == nil {
		out.CloudWatchLoggingOptions = &loggingOptions{Enabled: ptr(false)}
	}
	if out.S3BackupMode == nil {
		out.S3BackupMode = ptr("Disabled")
	}
	if dp := out.DynamicPartitioningConfiguration; dp != nil && dp.Enabled != nil && *dp.Enabled {
		d := *dp
		if d.RetryOptions == nil || d.RetryOptions.DurationInSeconds == nil {
			d.RetryOptions = &retryOptions{DurationInSeconds: ptr(300)}
		}
		out.DynamicPartitioningConfiguration = &d
	}
	switch {
	case *out.S3BackupMode == "Enabled" || out.S3BackupConfiguration != nil:
		return nil, unsupported(path+".S3BackupMode Enabled", "keeps no copy of the source records")
	case out.DataFormatConversionConfiguration != nil && out.DataFormatConversionConfiguration.Enabled != nil && *out.DataFormatConversionConfiguration.Enabled:
		return nil, unsupported(path+".DataFormatConversionConfiguration", "does not convert records to Parquet or ORC")
	case str(out.FileExtension) != "":
		return nil, unsupported(path+".FileExtension", "names objects as Firehose does by default")
	case str(out.CustomTimeZone) != "" && str(out.CustomTimeZone) != "UTC":
		return nil, unsupported(path+".CustomTimeZone "+str(out.CustomTimeZone), "dates prefixes in UTC")
	}
	if _, err := s.processors(out.ProcessingConfiguration, partitioned(&out), path); err != nil {
		return nil, err
	}
	return &out, nil
}

func enabled(p *processing) bool {
	return p != nil && (p.Enabled == nil || *p.Enabled) && len(p.Processors) > 0
}

// partitioned reports whether an S3 destination partitions dynamically.
func partitioned(d *s3Destination) bool {
	dp := d.DynamicPartitioningConfiguration
	return dp != nil && dp.Enabled != nil && *dp.Enabled
}

// processing is what a destination's processors ask of the delivery
// stream.
type procs struct {
	query     string // MetadataExtraction's
	newline   bool   // AppendDelimiterToRecord
	lambdaARN string // Lambda's function, with lambdaURL to invoke it
	lambdaURL string
	lambdaMBs float64 // Lambda's BufferSizeInMBs
}

// processors reads a destination's processors: shardlog runs
// MetadataExtraction (with dynamic partitioning), AppendDelimiterToRecord,
// and Lambda functions it knows an invocation URL of (Config.Lambdas).
func (s *Server) processors(p *processing, partitioned bool, path string) (procs, error) {
	var out procs
	if !enabled(p) {
		return out, nil
	}
	for _, proc := range p.Processors {
		params := map[string]string{}
		for _, kv := range proc.Parameters {
			params[str(kv.ParameterName)] = str(kv.ParameterValue)
		}
		switch typ := str(proc.Type); typ {
		case "MetadataExtraction":
			if !partitioned {
				return out, invalidArgument("MetadataExtraction processor is only supported when dynamic partitioning is enabled.")
			}
			if engine := params["JsonParsingEngine"]; engine != "" && engine != "JQ-1.6" {
				return out, invalidArgument("JsonParsingEngine " + engine + " is not supported: JQ-1.6 is.")
			}
			if out.query = params["MetadataExtractionQuery"]; out.query == "" {
				return out, invalidArgument("MetadataExtraction processor needs the parameter MetadataExtractionQuery.")
			}
		case "AppendDelimiterToRecord":
			out.newline = true
		case "Lambda":
			arn := params["LambdaArn"]
			if arn == "" {
				return out, invalidArgument("Lambda processor needs the parameter LambdaArn.")
			}
			if out.lambdaURL = s.lambdaURL(arn); out.lambdaURL == "" {
				return out, invalidArgument("The Lambda function " + arn + " has no invocation URL here: give it one (shardlogd -lambda " + arn + "=http://…/2015-03-31/functions/function/invocations).")
			}
			out.lambdaARN = arn
			if mbs := params["BufferSizeInMBs"]; mbs != "" {
				f, err := strconv.ParseFloat(mbs, 64)
				if err != nil || f < 0.2 || f > 3 {
					return out, invalidArgument("BufferSizeInMBs " + mbs + " of the Lambda processor is not between 0.2 and 3.")
				}
				out.lambdaMBs = f
			}
		default:
			return out, unsupported(path+".ProcessingConfiguration processor "+typ,
				"runs Lambda (with an invocation URL), MetadataExtraction and AppendDelimiterToRecord processors")
		}
	}
	return out, nil
}

// lambdaURL is the invocation URL of a function, by its ARN with or
// without a version or alias.
func (s *Server) lambdaURL(arn string) string {
	if u, ok := s.cfg.Lambdas[arn]; ok {
		return u
	}
	if i := strings.LastIndexByte(arn, ':'); i > 0 && strings.Count(arn, ":") == 7 {
		return s.cfg.Lambdas[arn[:i]] // arn:aws:lambda:<region>:<account>:function:<name>:<qualifier>
	}
	return ""
}

func hints(b *bufferingHints) *bufferingHints {
	out := bufferingHints{SizeInMBs: ptr(5), IntervalInSeconds: ptr(300)}
	if b != nil && b.SizeInMBs != nil {
		out.SizeInMBs = b.SizeInMBs
	}
	if b != nil && b.IntervalInSeconds != nil {
		out.IntervalInSeconds = b.IntervalInSeconds
	}
	return &out
}

func unsupported(what, why string) error {
	return invalidArgument(fmt.Sprintf("%s: shardlog %s.", what, why))
}

// describedHTTP fills in an HttpEndpoint destination's defaults.
func (s *Server) describedHTTP(d *httpDestination, path string) (*httpDestination, error) {
	out := *d
	out.BufferingHints = hints(d.BufferingHints)
	if out.CloudWatchLoggingOptions == nil {
		out.CloudWatchLoggingOptions = &loggingOptions{Enabled: ptr(false)}
	}
	if out.RequestConfiguration == nil {
		out.RequestConfiguration = &requestConfig{}
	}
	if out.RequestConfiguration.ContentEncoding == nil {
		out.RequestConfiguration.ContentEncoding = ptr("NONE")
	}
	if out.RetryOptions == nil || out.RetryOptions.DurationInSeconds == nil {
		out.RetryOptions = &retryOptions{DurationInSeconds: ptr(300)}
	}
	if out.S3BackupMode == nil {
		out.S3BackupMode = ptr("FailedDataOnly")
	}
	switch {
	case *out.S3BackupMode == "AllData":
		return nil, unsupported(path+".S3BackupMode AllData", "backs up failed data only")
	case out.SecretsManagerConfiguration != nil && out.SecretsManagerConfiguration.Enabled != nil && *out.SecretsManagerConfiguration.Enabled:
		return nil, unsupported(path+".SecretsManagerConfiguration", "reads no secrets from Secrets Manager")
	}
	backup := out.S3Configuration
	if backup == nil {
		backup = out.S3DestinationDescription
	}
	if _, err := s.processors(out.ProcessingConfiguration, false, path); err != nil {
		return nil, err
	}
	b, err := s.describedS3(backup, path+".S3Configuration")
	if err != nil {
		return nil, err
	}
	b.S3BackupMode = nil
	out.S3Configuration, out.S3DestinationDescription = nil, b
	return &out, nil
}

// describedRedshift fills in a Redshift destination's defaults.
func (s *Server) describedRedshift(d *redshiftDestination, path string) (*redshiftDestination, error) {
	if s.cfg.Redshift == nil {
		return nil, unsupported(path, "loads a database only when embedded with one (firehoseapi.Config.Redshift; module postgres)")
	}
	out := *d
	if out.RetryOptions == nil || out.RetryOptions.DurationInSeconds == nil {
		out.RetryOptions = &retryOptions{DurationInSeconds: ptr(3600)}
	}
	if out.CloudWatchLoggingOptions == nil {
		out.CloudWatchLoggingOptions = &loggingOptions{Enabled: ptr(false)}
	}
	if out.S3BackupMode == nil {
		out.S3BackupMode = ptr("Disabled")
	}
	switch {
	case *out.S3BackupMode == "Enabled" || out.S3BackupConfiguration != nil:
		return nil, unsupported(path+".S3BackupMode Enabled", "keeps no copy of the source records")
	case out.SecretsManagerConfiguration != nil && out.SecretsManagerConfiguration.Enabled != nil && *out.SecretsManagerConfiguration.Enabled:
		return nil, unsupported(path+".SecretsManagerConfiguration", "reads no secrets from Secrets Manager")
	}
	if _, err := s.processors(out.ProcessingConfiguration, false, path); err != nil {
		return nil, err
	}
	staging := out.S3Configuration
	if staging == nil {
		staging = out.S3DestinationDescription
	}
	if c := str(staging.CompressionFormat); c == "ZIP" || c == "Snappy" {
		return nil, invalidArgument("Compression format " + c + " is not supported for the Redshift destination's S3 configuration.")
	}
	b, err := s.describedS3(staging, path+".S3Configuration")
	if err != nil {
		return nil, err
	}
	b.S3BackupMode = nil
	out.S3Configuration, out.S3DestinationDescription = nil, b
	return &out, nil
}

// deliveryStreamFor makes the firehose.DeliveryStream a definition
// describes (without running it).
func (s *Server) deliveryStreamFor(def *definition) (*firehose.DeliveryStream, error) {
	cfg := firehose.Config{Name: def.Name, Version: def.Version, Clock: s.kinesis.Clock(), Logger: s.log.With("deliveryStream", def.Name)}
	switch def.Type {
	case "DirectPut":
		src, err := s.store.Stream(shardlog.StreamRef{StreamName: def.Name})
		if err != nil {
			return nil, err
		}
		cfg.Source, cfg.DirectPut = src, true
	default:
		src, err := s.kinesis.Stream(shardlog.StreamRef{StreamARN: str(def.Source.KinesisStreamARN)})
		if err != nil {
			return nil, invalidArgument("The Kinesis stream " + str(def.Source.KinesisStreamARN) + " could not be read: " + err.Error())
		}
		cfg.Source = src
		cfg.StartTime = time.Time(*def.Source.DeliveryStartTimestamp)
		cfg.Application = fmt.Sprintf("firehose-%s-%d", def.Name, def.Created.UnixMilli())
	}
	dest := def.S3
	switch {
	case def.HTTP != nil:
		dest = def.HTTP.S3DestinationDescription
	case def.Redshift != nil:
		dest = def.Redshift.S3DestinationDescription
	}
	dir, err := s.bucket(str(dest.BucketARN))
	if err != nil {
		return nil, err
	}
	cfg.Prefix, cfg.ErrorOutputPrefix = str(dest.Prefix), str(dest.ErrorOutputPrefix)
	cfg.Compression = firehose.Compression(str(dest.CompressionFormat))
	pc := dest.ProcessingConfiguration
	switch {
	case def.HTTP != nil:
		pc = def.HTTP.ProcessingConfiguration
	case def.Redshift != nil:
		pc = def.Redshift.ProcessingConfiguration
	}
	p, err := s.processors(pc, partitioned(dest), "")
	if err != nil {
		return nil, err
	}
	cfg.AppendNewline = p.newline
	if partitioned(dest) {
		cfg.Partitioning = &firehose.Partitioning{Query: p.query}
	}
	if p.lambdaARN != "" {
		l := &firehose.Lambda{URL: p.lambdaURL, FunctionARN: p.lambdaARN, DeliveryStreamARN: s.arn(def.Name),
			Region: s.kinesis.Region(), BufferSizeInMBs: p.lambdaMBs, Client: s.cfg.HTTPClient}
		if def.Source != nil {
			l.SourceStreamARN = str(def.Source.KinesisStreamARN)
		}
		cfg.Processor, cfg.ProcessorARN = l.Process, p.lambdaARN
	}
	buffering := dest.BufferingHints
	switch {
	case def.Redshift != nil:
		r := def.Redshift
		rc := RedshiftConfig{ClusterJDBCURL: str(r.ClusterJDBCURL), Username: str(r.Username), Password: str(r.Password), Staging: dir}
		if c := r.CopyCommand; c != nil {
			rc.DataTableName, rc.DataTableColumns, rc.CopyOptions = str(c.DataTableName), str(c.DataTableColumns), str(c.CopyOptions)
		}
		if s.cfg.Redshift == nil {
			return nil, unsupported("RedshiftDestinationConfiguration", "loads a database only when embedded with one (firehoseapi.Config.Redshift; module postgres)")
		}
		if cfg.Destination, err = s.cfg.Redshift(rc); err != nil {
			return nil, invalidArgument("The Redshift destination cannot be made: " + err.Error())
		}
		cfg.Backup = dir
		cfg.RetryDuration = retryDuration(r.RetryOptions)
	case def.HTTP == nil:
		cfg.Destination = dir
	default:
		h := def.HTTP
		buffering = h.BufferingHints
		ep := &firehose.HTTPEndpoint{URL: str(h.EndpointConfiguration.Url), AccessKey: str(h.EndpointConfiguration.AccessKey),
			ContentEncoding: str(h.RequestConfiguration.ContentEncoding), SourceARN: s.arn(def.Name), Client: s.cfg.HTTPClient, Clock: s.kinesis.Clock()}
		if len(h.RequestConfiguration.CommonAttributes) > 0 {
			ep.CommonAttributes = map[string]string{}
			for _, a := range h.RequestConfiguration.CommonAttributes {
				ep.CommonAttributes[str(a.AttributeName)] = str(a.AttributeValue)
			}
		}
		cfg.Destination, cfg.Backup = ep, dir
		cfg.Compression = firehose.Uncompressed // the endpoint's ContentEncoding compresses
		cfg.RetryDuration = retryDuration(h.RetryOptions)
	}
	cfg.Buffering = firehose.BufferingHints{SizeInMBs: *buffering.SizeInMBs, IntervalInSeconds: *buffering.IntervalInSeconds}
	return firehose.New(cfg)
}

// retryDuration is a destination's RetryOptions as firehose.Config's
// RetryDuration, whose zero means its default: 0 s, no retries, is the
// shortest duration there is.
func retryDuration(r *retryOptions) time.Duration {
	if d := time.Duration(*r.DurationInSeconds) * time.Second; d > 0 {
		return d
	}
	return time.Nanosecond
}
