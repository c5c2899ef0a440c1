package firehoseapi

import (
	"encoding/json"
	"strconv"
	"time"
)

// The request and answer shapes of Firehose's API that shardlog serves,
// named and nested as in the model. A configuration is kept as it will be
// described (defaults filled in), so one type serves both.

// named is the delivery stream a request names: the resource its caller
// is authorized for.
type named struct {
	DeliveryStreamName *string
}

func (n *named) target() string { return str(n.DeliveryStreamName) }

type createInput struct {
	named
	DeliveryStreamType                         *string
	KinesisStreamSourceConfiguration           *kinesisSource
	DeliveryStreamEncryptionConfigurationInput *encryptionInput
	S3DestinationConfiguration                 *s3Destination
	ExtendedS3DestinationConfiguration         *s3Destination
	HttpEndpointDestinationConfiguration       *httpDestination
	Tags                                       []tag

	// Sources and destinations shardlog does not deliver: refused when
	// present.
	DirectPutSourceConfiguration                       json.RawMessage
	MSKSourceConfiguration                             json.RawMessage
	DatabaseSourceConfiguration                        json.RawMessage
	RedshiftDestinationConfiguration                   *redshiftDestination
	ElasticsearchDestinationConfiguration              json.RawMessage
	AmazonopensearchserviceDestinationConfiguration    json.RawMessage
	AmazonOpenSearchServerlessDestinationConfiguration json.RawMessage
	SplunkDestinationConfiguration                     json.RawMessage
	SnowflakeDestinationConfiguration                  json.RawMessage
	IcebergDestinationConfiguration                    json.RawMessage
}

type kinesisSource struct {
	KinesisStreamARN       *string `json:",omitempty"`
	RoleARN                *string `json:",omitempty"`
	DeliveryStartTimestamp *epoch  `json:",omitempty"`
}

type encryptionInput struct {
	KeyARN  *string
	KeyType *string
}

type bufferingHints struct {
	SizeInMBs         *int `json:",omitempty"`
	IntervalInSeconds *int `json:",omitempty"`
}

type loggingOptions struct {
	Enabled       *bool   `json:",omitempty"`
	LogGroupName  *string `json:",omitempty"`
	LogStreamName *string `json:",omitempty"`
}

type processing struct {
	Enabled    *bool       `json:",omitempty"`
	Processors []processor `json:",omitempty"`
}

type processor struct {
	Type       *string
	Parameters []processorParameter `json:",omitempty"`
}

type processorParameter struct {
	ParameterName  *string
	ParameterValue *string
}

type dynamicPartitioning struct {
	Enabled      *bool         `json:",omitempty"`
	RetryOptions *retryOptions `json:",omitempty"`
}

type enabledOption struct {
	Enabled *bool `json:",omitempty"`
}

type s3Encryption struct {
	NoEncryptionConfig  *string         `json:",omitempty"`
	KMSEncryptionConfig json.RawMessage `json:",omitempty"`
}

// s3Destination is an S3 or ExtendedS3 destination's configuration,
// update or description.
type s3Destination struct {
	RoleARN                           *string              `json:",omitempty"`
	BucketARN                         *string              `json:",omitempty"`
	Prefix                            *string              `json:",omitempty"`
	ErrorOutputPrefix                 *string              `json:",omitempty"`
	BufferingHints                    *bufferingHints      `json:",omitempty"`
	CompressionFormat                 *string              `json:",omitempty"`
	EncryptionConfiguration           *s3Encryption        `json:",omitempty"`
	CloudWatchLoggingOptions          *loggingOptions      `json:",omitempty"`
	ProcessingConfiguration           *processing          `json:",omitempty"`
	S3BackupMode                      *string              `json:",omitempty"`
	S3BackupConfiguration             *s3Destination       `json:",omitempty"` // in a configuration
	S3BackupUpdate                    *s3Destination       `json:",omitempty"` // in an update
	S3BackupDescription               *s3Destination       `json:",omitempty"` // in a description
	DataFormatConversionConfiguration *enabledOption       `json:",omitempty"`
	DynamicPartitioningConfiguration  *dynamicPartitioning `json:",omitempty"`
	FileExtension                     *string              `json:",omitempty"`
	CustomTimeZone                    *string              `json:",omitempty"`
}

type httpEndpoint struct {
	Url       *string `json:",omitempty"`
	Name      *string `json:",omitempty"`
	AccessKey *string `json:",omitempty"`
}

type attribute struct {
	AttributeName  *string
	AttributeValue *string
}

type requestConfig struct {
	ContentEncoding  *string     `json:",omitempty"`
	CommonAttributes []attribute `json:",omitempty"`
}

type retryOptions struct {
	DurationInSeconds *int `json:",omitempty"`
}

// httpDestination is an HttpEndpoint destination's configuration, update
// or description.
type httpDestination struct {
	EndpointConfiguration       *httpEndpoint   `json:",omitempty"`
	BufferingHints              *bufferingHints `json:",omitempty"`
	CloudWatchLoggingOptions    *loggingOptions `json:",omitempty"`
	RequestConfiguration        *requestConfig  `json:",omitempty"`
	ProcessingConfiguration     *processing     `json:",omitempty"`
	RoleARN                     *string         `json:",omitempty"`
	RetryOptions                *retryOptions   `json:",omitempty"`
	S3BackupMode                *string         `json:",omitempty"`
	S3Configuration             *s3Destination  `json:",omitempty"` // in a configuration
	S3Update                    *s3Destination  `json:",omitempty"` // in an update
	S3DestinationDescription    *s3Destination  `json:",omitempty"` // in a description
	SecretsManagerConfiguration *enabledOption  `json:",omitempty"`
}

type copyCommand struct {
	DataTableName    *string `json:",omitempty"`
	DataTableColumns *string `json:",omitempty"`
	CopyOptions      *string `json:",omitempty"`
}

// redshiftDestination is a Redshift destination's configuration or
// description.
type redshiftDestination struct {
	RoleARN                     *string         `json:",omitempty"`
	ClusterJDBCURL              *string         `json:",omitempty"`
	CopyCommand                 *copyCommand    `json:",omitempty"`
	Username                    *string         `json:",omitempty"`
	Password                    *string         `json:",omitempty"` // never described
	RetryOptions                *retryOptions   `json:",omitempty"`
	S3Configuration             *s3Destination  `json:",omitempty"` // in a configuration
	S3DestinationDescription    *s3Destination  `json:",omitempty"` // in a description
	ProcessingConfiguration     *processing     `json:",omitempty"`
	S3BackupMode                *string         `json:",omitempty"`
	S3BackupConfiguration       *s3Destination  `json:",omitempty"`
	CloudWatchLoggingOptions    *loggingOptions `json:",omitempty"`
	SecretsManagerConfiguration *enabledOption  `json:",omitempty"`
}

type tag struct {
	Key   *string
	Value *string `json:",omitempty"`
}

type nameInput struct {
	named
}

type describeInput struct {
	named
	Limit                       *int
	ExclusiveStartDestinationId *string
}

type listInput struct {
	Limit                            *int
	DeliveryStreamType               *string
	ExclusiveStartDeliveryStreamName *string
}

func (*listInput) target() string { return "" }

type deleteInput struct {
	named
	AllowForceDelete *bool
}

type updateInput struct {
	named
	CurrentDeliveryStreamVersionId *string
	DestinationId                  *string
	S3DestinationUpdate            *s3Destination
	ExtendedS3DestinationUpdate    *s3Destination
	HttpEndpointDestinationUpdate  *httpDestination

	RedshiftDestinationUpdate                   json.RawMessage
	ElasticsearchDestinationUpdate              json.RawMessage
	AmazonopensearchserviceDestinationUpdate    json.RawMessage
	AmazonOpenSearchServerlessDestinationUpdate json.RawMessage
	SplunkDestinationUpdate                     json.RawMessage
	SnowflakeDestinationUpdate                  json.RawMessage
	IcebergDestinationUpdate                    json.RawMessage
}

type record struct {
	Data []byte
}

type putRecordInput struct {
	named
	Record *record
}

type putRecordBatchInput struct {
	named
	Records []*record
}

type tagInput struct {
	named
	Tags []tag
}

type untagInput struct {
	named
	TagKeys []*string
}

type listTagsInput struct {
	named
	ExclusiveStartTagKey *string
	Limit                *int
}

type encryptionStartInput struct {
	named
	DeliveryStreamEncryptionConfigurationInput *encryptionInput
}

// encryption is DeliveryStreamEncryptionConfiguration.
type encryption struct {
	KeyARN  *string `json:",omitempty"`
	KeyType *string `json:",omitempty"`
	Status  string
}

type destinationDescription struct {
	DestinationId                      string
	S3DestinationDescription           *s3Destination       `json:",omitempty"`
	ExtendedS3DestinationDescription   *s3Destination       `json:",omitempty"`
	HttpEndpointDestinationDescription *httpDestination     `json:",omitempty"`
	RedshiftDestinationDescription     *redshiftDestination `json:",omitempty"`
}

type sourceDescription struct {
	KinesisStreamSourceDescription *kinesisSource `json:",omitempty"`
}

type description struct {
	DeliveryStreamName                    string
	DeliveryStreamARN                     string
	DeliveryStreamStatus                  string
	FailureDescription                    *failureDescription `json:",omitempty"`
	DeliveryStreamType                    string
	DeliveryStreamEncryptionConfiguration *encryption `json:",omitempty"`
	VersionId                             string
	CreateTimestamp                       epoch
	LastUpdateTimestamp                   *epoch             `json:",omitempty"`
	Source                                *sourceDescription `json:",omitempty"`
	Destinations                          []destinationDescription
	HasMoreDestinations                   bool
}

// failureDescription says why a delivery stream does not deliver.
type failureDescription struct {
	Type    string
	Details string
}

// epoch is a timestamp as JSON 1.1 carries it: seconds since 1970, with
// milliseconds.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(e).UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

func (e *epoch) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*e = epoch(time.UnixMilli(int64(f * 1000)).UTC())
	return nil
}
