package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Config is the agent's configuration, in the Kinesis Agent's agent.json
// format: the keys below, with its defaults and bounds. Keys this agent
// does not know are refused, naming them, rather than ignored.
type Config struct {
	// CheckpointFile is where the agent records how far it has sent each
	// file (the Kinesis Agent's checkpointFile; its default is
	// /var/run/aws-kinesis-agent/checkpoints).
	CheckpointFile string `json:"checkpointFile"`
	// KinesisEndpoint and KinesisRegion name the Kinesis endpoint (a
	// shardlogd, or Amazon Kinesis) for cmd/shardlog-agent; a program that
	// embeds the agent passes its streams to New instead.
	KinesisEndpoint    string `json:"kinesis.endpoint"`
	KinesisRegion      string `json:"kinesis.region"`
	AWSAccessKeyID     string `json:"awsAccessKeyId"`
	AWSSecretAccessKey string `json:"awsSecretAccessKey"`
	// StatusReportingPeriodSeconds is how often the agent logs a status
	// line (the Kinesis Agent's log.statusReportingPeriodSeconds). Default 30.
	StatusReportingPeriodSeconds int `json:"log.statusReportingPeriodSeconds"`
	// EC2Metadata answers ADDEC2METADATA in place of the instance
	// metadata service (key "ec2.metadata", shardlog's own).
	EC2Metadata *EC2Metadata `json:"ec2.metadata"`
	// Flows are the files to tail and where to send them.
	Flows []Flow `json:"flows"`
}

// Flow tails the files that match FilePattern into KinesisStream.
type Flow struct {
	// FilePattern is a glob (path/filepath.Match's syntax) of the files to
	// tail. Required.
	FilePattern string `json:"filePattern"`
	// KinesisStream is the stream the lines go to. Required.
	KinesisStream string `json:"kinesisStream"`
	// PartitionKeyOption is RANDOM (the default: a random number, so the
	// lines spread over the shards) or DETERMINISTIC (the hex MD5 of the
	// record, as the Kinesis Agent does).
	PartitionKeyOption string `json:"partitionKeyOption"`
	// InitialPosition is where a file found when the agent starts, and
	// with no checkpoint, is read from: END_OF_FILE (the default) or
	// START_OF_FILE. Files that appear later are read from their start.
	InitialPosition string `json:"initialPosition"`
	// SkipHeaderLines skips the first lines of every file.
	SkipHeaderLines int `json:"skipHeaderLines"`
	// MultiLineStartPattern, if set, makes a record of a line that matches
	// it and the lines after it that do not (a stack trace, say).
	MultiLineStartPattern string `json:"multiLineStartPattern"`
	// TruncatedRecordTerminator ends a record cut to the largest record
	// Kinesis takes. Default "\n".
	TruncatedRecordTerminator *string `json:"truncatedRecordTerminator"`
	// MaxBufferAgeMillis is how long a record may wait for others to share
	// its PutRecords call: 1 000 to 900 000, default 60 000.
	MaxBufferAgeMillis int `json:"maxBufferAgeMillis"`
	// MaxBufferSizeRecords and MaxBufferSizeBytes bound one PutRecords
	// call: 1 to 500 records (default 500) and 1 to 5 242 880 bytes (the
	// default).
	MaxBufferSizeRecords int `json:"maxBufferSizeRecords"`
	MaxBufferSizeBytes   int `json:"maxBufferSizeBytes"`
	// MinTimeBetweenFilePollsMillis is how often the files are looked at:
	// at least 1, default 100.
	MinTimeBetweenFilePollsMillis int `json:"minTimeBetweenFilePollsMillis"`
	// DataProcessingOptions turn each record into another, in order.
	DataProcessingOptions []ProcessingOption `json:"dataProcessingOptions"`

	multiLine  *regexp.Regexp
	processors []processor
}

// ErrConfig is the error of a configuration the agent refuses; the message
// names the key and the flow.
var ErrConfig = errors.New("agent: bad configuration")

// Defaults and bounds of the Kinesis Agent.
const (
	defaultBufferAge   = 60000
	maxBufferAge       = 900000
	maxBufferRecords   = 500
	maxBufferBytes     = 5242880
	defaultPollMillis  = 100
	defaultStatusEvery = 30
)

// ParseConfig reads an agent.json.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return c, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if d.More() {
		return c, fmt.Errorf("%w: more than one JSON value", ErrConfig)
	}
	return c.withDefaults()
}

func (c Config) withDefaults() (Config, error) {
	if c.StatusReportingPeriodSeconds < 0 {
		return c, fmt.Errorf("%w: log.statusReportingPeriodSeconds %d is negative", ErrConfig, c.StatusReportingPeriodSeconds)
	}
	if c.StatusReportingPeriodSeconds == 0 {
		c.StatusReportingPeriodSeconds = defaultStatusEvery
	}
	if len(c.Flows) == 0 {
		return c, fmt.Errorf("%w: no flows", ErrConfig)
	}
	c.Flows = append([]Flow(nil), c.Flows...)
	seen := map[string]bool{}
	for i := range c.Flows {
		f := &c.Flows[i]
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w: flow %d (%s): %s", ErrConfig, i, f.FilePattern, fmt.Sprintf(format, args...))
		}
		switch {
		case f.FilePattern == "":
			return c, bad("filePattern is required")
		case f.KinesisStream == "":
			return c, bad("kinesisStream is required")
		}
		if _, err := filepath.Match(f.FilePattern, ""); err != nil {
			return c, bad("filePattern: %v", err)
		}
		if id := f.id(); seen[id] {
			return c, bad("a second flow of the same files into the same stream")
		} else {
			seen[id] = true
		}
		if err := oneOf(&f.PartitionKeyOption, "RANDOM", "DETERMINISTIC"); err != nil {
			return c, bad("partitionKeyOption %v", err)
		}
		if err := oneOf(&f.InitialPosition, "END_OF_FILE", "START_OF_FILE"); err != nil {
			return c, bad("initialPosition %v", err)
		}
		if f.SkipHeaderLines < 0 {
			return c, bad("skipHeaderLines %d is negative", f.SkipHeaderLines)
		}
		if f.MultiLineStartPattern != "" {
			re, err := regexp.Compile(f.MultiLineStartPattern)
			if err != nil {
				return c, bad("multiLineStartPattern: %v", err)
			}
			f.multiLine = re
		}
		if f.TruncatedRecordTerminator == nil {
			nl := "\n"
			f.TruncatedRecordTerminator = &nl
		}
		if err := bounded(&f.MaxBufferAgeMillis, defaultBufferAge, 1000, maxBufferAge); err != nil {
			return c, bad("maxBufferAgeMillis %v", err)
		}
		if err := bounded(&f.MaxBufferSizeRecords, maxBufferRecords, 1, maxBufferRecords); err != nil {
			return c, bad("maxBufferSizeRecords %v", err)
		}
		if err := bounded(&f.MaxBufferSizeBytes, maxBufferBytes, 1, maxBufferBytes); err != nil {
			return c, bad("maxBufferSizeBytes %v", err)
		}
		if err := bounded(&f.MinTimeBetweenFilePollsMillis, defaultPollMillis, 1, 1<<31-1); err != nil {
			return c, bad("minTimeBetweenFilePollsMillis %v", err)
		}
		f.processors = nil
		for j := range f.DataProcessingOptions {
			p, err := f.DataProcessingOptions[j].compile(c.EC2Metadata)
			if err != nil {
				return c, bad("dataProcessingOptions[%d]: %v", j, err)
			}
			f.processors = append(f.processors, p)
		}
	}
	return c, nil
}

// oneOf sets *v to the first of values (its default) if it is empty, and
// checks it is one of them.
func oneOf(v *string, values ...string) error {
	if *v == "" {
		*v = values[0]
	}
	if !slices.Contains(values, *v) {
		return fmt.Errorf("%q is not one of %s", *v, strings.Join(values, ", "))
	}
	return nil
}

// bounded sets *v to def if it is 0, and checks it is in [lo, hi].
func bounded(v *int, def, lo, hi int) error {
	if *v == 0 {
		*v = def
	}
	if *v < lo || *v > hi {
		return fmt.Errorf("%d is outside [%d, %d]", *v, lo, hi)
	}
	return nil
}

// id names the flow in checkpoints, as the Kinesis Agent does.
func (f *Flow) id() string { return "kinesis:" + f.KinesisStream + ":" + f.FilePattern }

func (f *Flow) pollEvery() time.Duration {
	return time.Duration(f.MinTimeBetweenFilePollsMillis) * time.Millisecond
}
