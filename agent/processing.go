package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// ProcessingOption is one of a flow's dataProcessingOptions, applied to
// each record in order, as the Kinesis Agent applies them: optionName
// SINGLELINE, CSVTOJSON, LOGTOJSON, ADDMETADATA or ADDEC2METADATA, with the keys each
// takes. Every output ends with a newline.
type ProcessingOption struct {
	OptionName string `json:"optionName"`
	// JSONFormat is COMPACT (the default) or PRETTYPRINT, for the options
	// that write JSON.
	JSONFormat string `json:"jsonFormat"`
	// CustomFieldNames name the fields: CSVTOJSON's columns (required),
	// LOGTOJSON's groups of MatchPattern (required with it) or, without
	// it, new names for the log format's fields, as many.
	CustomFieldNames []string `json:"customFieldNames"`
	// Delimiter splits CSVTOJSON's columns, as a regular expression.
	// Default ",".
	Delimiter string `json:"delimiter"`
	// LogFormat is LOGTOJSON's: COMMONAPACHELOG, COMBINEDAPACHELOG,
	// APACHEERRORLOG, SYSLOG or RFC3339SYSLOG. Lines that do not match it
	// are dropped.
	LogFormat string `json:"logFormat"`
	// MatchPattern replaces the log format's pattern for LOGTOJSON.
	MatchPattern string `json:"matchPattern"`
	// Metadata is ADDMETADATA's object, and Timestamp ("true") adds the
	// time the record was read.
	Metadata  json.RawMessage `json:"metadata"`
	Timestamp string          `json:"timestamp"`
	// ParseOptions are SINGLELINE's: NO_TRIM, ESCAPE_NEW_LINE.
	ParseOptions []string `json:"parseOptions"`

	// ADDEC2METADATA's keys each name the field that one of the
	// instance's values (agent.json's ec2.metadata) is written to, as the
	// Kinesis Agent's do; Tags maps instance tag keys (in lower case) to
	// fields. MetadataTimestamp names the field of when the metadata was
	// last refreshed (every MetadataTTL seconds, default 3 600), as
	// yyyy-MM-ddTHH:mm:ss+0000.
	PrivateIP         string            `json:"privateIp"`
	AvailabilityZone  string            `json:"availabilityZone"`
	InstanceID        string            `json:"instanceId"`
	InstanceType      string            `json:"instanceType"`
	AccountID         string            `json:"accountId"`
	AMIID             string            `json:"amiId"`
	Region            string            `json:"region"`
	MetadataTimestamp string            `json:"metadataTimestamp"`
	Tags              map[string]string `json:"tags"`
	MetadataTTL       int               `json:"metadataTTL"`
}

// processor turns a record into another, or drops it (nil).
type processor func(rec []byte, now time.Time) []byte

// logFormats are LOGTOJSON's formats: their pattern and field names.
var logFormats = map[string]struct {
	pattern *regexp.Regexp
	fields  []string
	dash    bool // "-" is null
}{
	"COMMONAPACHELOG": {regexp.MustCompile(`^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\S+) (\S+)`),
		[]string{"host", "ident", "authuser", "datetime", "request", "response", "bytes"}, true},
	"COMBINEDAPACHELOG": {regexp.MustCompile(`^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\S+) (\S+) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"`),
		[]string{"host", "ident", "authuser", "datetime", "request", "response", "bytes", "referer", "agent"}, true},
	"APACHEERRORLOG": {regexp.MustCompile(`^\[([^\]]+)\] \[(?:([^:\]]+):)?([^\]]+)\](?: \[pid (\d+)(?::tid (\d+))?\])?(?: \[client:? ([^\]]+)\])? ?(.*)$`),
		[]string{"timestamp", "module", "severity", "processid", "threadid", "client", "message"}, false},
	"SYSLOG": {regexp.MustCompile(`^(?:<\d+(?:\.\d+)?>)?([A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}) (\S+) ([^\[:\s]+)(?:\[(\d+)\])?: ?(.*)$`),
		[]string{"timestamp", "hostname", "program", "processid", "message"}, false},
	"RFC3339SYSLOG": {regexp.MustCompile(`^(?:<\d+(?:\.\d+)?>)?(\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})) (\S+) ([^\[:\s]+)(?:\[(\d+)\])?: ?(.*)$`),
		[]string{"timestamp", "hostname", "program", "processid", "message"}, false},
}

// compile checks o and returns its processor.
func (o *ProcessingOption) compile(ec2 *EC2Metadata) (processor, error) {
	pretty := false
	switch o.JSONFormat {
	case "", "COMPACT":
	case "PRETTYPRINT":
		pretty = true
	default:
		return nil, fmt.Errorf("jsonFormat %q is not COMPACT or PRETTYPRINT", o.JSONFormat)
	}
	switch o.OptionName {
	case "SINGLELINE":
		trim, escape := true, false
		for _, p := range o.ParseOptions {
			switch p {
			case "NO_TRIM":
				trim = false
			case "ESCAPE_NEW_LINE":
				escape = true
			default:
				return nil, fmt.Errorf("parseOptions %q is not NO_TRIM or ESCAPE_NEW_LINE", p)
			}
		}
		return func(rec []byte, _ time.Time) []byte { return singleLine(rec, trim, escape) }, nil
	case "CSVTOJSON":
		if len(o.CustomFieldNames) == 0 {
			return nil, fmt.Errorf("CSVTOJSON needs customFieldNames")
		}
		delim := o.Delimiter
		if delim == "" {
			delim = ","
		}
		split, err := regexp.Compile(delim)
		if err != nil {
			return nil, fmt.Errorf("delimiter: %v", err)
		}
		names := o.CustomFieldNames
		return func(rec []byte, _ time.Time) []byte {
			cols := split.Split(string(trimNewline(rec)), -1)
			return fields(names, func(i int) any {
				if i < len(cols) {
					return cols[i]
				}
				return nil
			}, pretty)
		}, nil
	case "LOGTOJSON":
		f, ok := logFormats[o.LogFormat]
		if !ok {
			return nil, fmt.Errorf("logFormat %q is not COMMONAPACHELOG, COMBINEDAPACHELOG, APACHEERRORLOG, SYSLOG or RFC3339SYSLOG", o.LogFormat)
		}
		pattern, names := f.pattern, f.fields
		switch {
		case o.MatchPattern != "":
			re, err := regexp.Compile(o.MatchPattern)
			if err != nil {
				return nil, fmt.Errorf("matchPattern: %v", err)
			}
			if len(o.CustomFieldNames) != re.NumSubexp() {
				return nil, fmt.Errorf("matchPattern has %d groups and customFieldNames %d names", re.NumSubexp(), len(o.CustomFieldNames))
			}
			pattern, names = re, o.CustomFieldNames
		case len(o.CustomFieldNames) > 0:
			if len(o.CustomFieldNames) != len(names) {
				return nil, fmt.Errorf("customFieldNames has %d names for the %d fields of %s", len(o.CustomFieldNames), len(names), o.LogFormat)
			}
			names = o.CustomFieldNames
		}
		dash := f.dash
		return func(rec []byte, _ time.Time) []byte {
			m := pattern.FindSubmatch(trimNewline(rec))
			if m == nil {
				return nil // the Kinesis Agent drops what does not match
			}
			return fields(names, func(i int) any {
				v := m[i+1]
				if v == nil || dash && string(v) == "-" {
					return nil
				}
				return string(v)
			}, pretty)
		}, nil
	case "ADDMETADATA":
		meta := o.Metadata
		if len(meta) == 0 {
			return nil, fmt.Errorf("ADDMETADATA needs metadata")
		}
		stamp := o.Timestamp == "true"
		return func(rec []byte, now time.Time) []byte {
			v := struct {
				TS       string          `json:"ts,omitempty"`
				Metadata json.RawMessage `json:"metadata"`
				Data     string          `json:"data"`
			}{Metadata: meta, Data: string(trimNewline(rec))}
			if stamp {
				v.TS = now.UTC().Format("2006-01-02T15:04:05.000Z07:00")
			}
			return encode(v, pretty)
		}, nil
	case "ADDEC2METADATA":
		return o.addEC2Metadata(ec2, pretty)
	}
	return nil, fmt.Errorf("optionName %q is not SINGLELINE, CSVTOJSON, LOGTOJSON, ADDMETADATA or ADDEC2METADATA", o.OptionName)
}

// singleLine joins a record's lines, trimmed unless trim is false, with
// "\n" between them if escape.
func singleLine(rec []byte, trim, escape bool) []byte {
	lines := strings.Split(string(trimNewline(rec)), "\n")
	for i, l := range lines {
		if trim {
			lines[i] = strings.TrimSpace(l)
		}
	}
	sep := ""
	if escape {
		sep = `\n`
	}
	return []byte(strings.Join(lines, sep) + "\n")
}

// fields writes a JSON object of names and their values, in order.
func fields(names []string, value func(int) any, pretty bool) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		if pretty {
			b.WriteString("\n  ")
		}
		k, _ := json.Marshal(n)
		v, _ := json.Marshal(value(i))
		b.Write(k)
		b.WriteByte(':')
		if pretty {
			b.WriteByte(' ')
		}
		b.Write(v)
	}
	if pretty {
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	return b.Bytes()
}

func encode(v any, pretty bool) []byte {
	var b []byte
	if pretty {
		b, _ = json.MarshalIndent(v, "", "  ")
	} else {
		b, _ = json.Marshal(v)
	}
	return append(b, '\n')
}

func trimNewline(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}
