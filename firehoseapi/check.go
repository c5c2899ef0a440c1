package firehoseapi

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// violations collects a request's breaches of the Firehose model's
// constraints, worded as AWS words them; AWS lists up to ten in one
// ValidationException.
type violations struct {
	found     []string
	plainHTTP bool // http:// endpoint URLs are allowed (Config.PlainHTTPEndpoints)
}

const maxListed = 10

func (v *violations) add(value, path, rule string) {
	v.found = append(v.found, "Value "+value+" at '"+path+"' failed to satisfy constraint: Member must "+rule)
}

func (v *violations) null(path string) { v.add("null", path, "not be null") }

func quote(s string) string { return "'" + s + "'" }

// javaLength is a string's length as the model counts it: UTF-16 units.
func javaLength(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// str checks a string member: required, a length between lo and hi, a
// pattern (nil for none) and an enum (empty for none), in AWS's order.
func (v *violations) str(path string, s *string, required bool, lo, hi int, pattern *pattern, enum ...string) {
	if s == nil {
		if required {
			v.null(path)
		}
		return
	}
	if pattern != nil && !pattern.ok(*s) {
		v.add(quote(*s), path, "satisfy regular expression pattern: "+pattern.text)
	}
	n := javaLength(*s)
	if hi > 0 && n < lo {
		v.add(quote(*s), path, "have length greater than or equal to "+strconv.Itoa(lo))
	}
	if hi > 0 && n > hi {
		v.add(quote(*s), path, "have length less than or equal to "+strconv.Itoa(hi))
	}
	if len(enum) > 0 && !slices.Contains(enum, *s) {
		v.add(quote(*s), path, "satisfy enum value set: ["+strings.Join(enum, ", ")+"]")
	}
}

// integer checks an integer member's range.
func (v *violations) integer(path string, n *int, lo, hi int) {
	if n == nil {
		return
	}
	if *n < lo {
		v.add(quote(strconv.Itoa(*n)), path, "have value greater than or equal to "+strconv.Itoa(lo))
	}
	if *n > hi {
		v.add(quote(strconv.Itoa(*n)), path, "have value less than or equal to "+strconv.Itoa(hi))
	}
}

// list checks a list member's length.
func (v *violations) list(path string, n int, present, required bool, lo, hi int) {
	if !present {
		if required {
			v.null(path)
		}
		return
	}
	shown := "'[...]'"
	if n == 0 {
		shown = "'[]'"
	}
	if n < lo {
		v.add(shown, path, "have length greater than or equal to "+strconv.Itoa(lo))
	}
	if n > hi {
		v.add(shown, path, "have length less than or equal to "+strconv.Itoa(hi))
	}
}

// blob checks a blob member's length, shown as AWS's Java shows a buffer.
func (v *violations) blob(path string, b []byte, hi int) {
	if len(b) > hi {
		l := strconv.Itoa(len(b))
		v.add("'java.nio.HeapByteBuffer[pos=0 lim="+l+" cap="+l+"]'", path, "have length less than or equal to "+strconv.Itoa(hi))
	}
}

func (v *violations) err() error {
	if len(v.found) == 0 {
		return nil
	}
	head := "1 validation error detected: "
	if len(v.found) > 1 {
		head = strconv.Itoa(len(v.found)) + " validation errors detected: "
	}
	return &apiError{status: 400, code: "ValidationException", message: head + strings.Join(v.found[:min(len(v.found), maxListed)], "; ")}
}

// pattern is one of the model's patterns: its text, and whether a whole
// string matches it (Java's String.matches).
type pattern struct {
	text string
	ok   func(string) bool
}

func modelPattern(p string) *pattern {
	re := regexp.MustCompile("^(?:" + p + ")$")
	return &pattern{p, re.MatchString}
}

// tagChars is what tag keys and values are made of; Go's regexp has no
// lookahead for the keys' (?!aws:), so that part is checked by hand.
var tagChars = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$`)

var (
	namePattern        = modelPattern(`[a-zA-Z0-9_.-]+`)
	arnPattern         = modelPattern(`arn:.*`)
	anyPattern         = modelPattern(`.*`)
	versionPattern     = modelPattern(`[0-9]+`)
	destinationPattern = modelPattern(`[a-zA-Z0-9-]+`)
	httpsPattern       = modelPattern(`https://.*`)
	httpPattern        = modelPattern(`https?://.*`)
	tagKeyPattern      = &pattern{`^(?!aws:)[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$`, func(s string) bool { return !strings.HasPrefix(s, "aws:") && tagChars.MatchString(s) }}
	tagValuePattern    = &pattern{`^[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$`, tagChars.MatchString}
	endpointName       = &pattern{`^(?!\s*$).+`, func(s string) bool { return strings.TrimSpace(s) != "" }}
	logGroupPattern    = modelPattern(`[\.\-_/#A-Za-z0-9]*`)
	logStreamPattern   = modelPattern(`[^:*]*`)
	extensionPattern   = modelPattern(`^$|\.[0-9a-z!\-_.*'()]+`)
)

var (
	streamTypes  = []string{"DirectPut", "KinesisStreamAsSource", "MSKAsSource", "DatabaseAsSource"}
	compressions = []string{"UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"}
	keyTypes     = []string{"AWS_OWNED_CMK", "CUSTOMER_MANAGED_CMK"}
)

func (v *violations) streamName(path string, s *string) {
	v.str(path, s, true, 1, 64, namePattern)
}

func (v *violations) tags(path string, tags []tag, present, required bool) {
	v.list(path, len(tags), present, required, 1, 50)
	for i, t := range tags {
		at := path + "." + strconv.Itoa(i+1) + ".member."
		v.str(at+"key", t.Key, true, 1, 128, tagKeyPattern)
		v.str(at+"value", t.Value, false, 0, 256, tagValuePattern)
	}
}

func (v *violations) buffering(path string, b *bufferingHints, maxMBs int) {
	if b == nil {
		return
	}
	v.integer(path+".sizeInMBs", b.SizeInMBs, 1, maxMBs)
	v.integer(path+".intervalInSeconds", b.IntervalInSeconds, 0, 900)
}

func (v *violations) logging(path string, l *loggingOptions) {
	if l == nil {
		return
	}
	v.str(path+".logGroupName", l.LogGroupName, false, 0, 512, logGroupPattern)
	v.str(path+".logStreamName", l.LogStreamName, false, 0, 512, logStreamPattern)
}

// s3 checks an S3 or ExtendedS3 destination; update says whether it is
// an update, whose members are all optional.
func (v *violations) s3(path string, d *s3Destination, update bool) {
	if d == nil {
		return
	}
	v.str(path+".roleARN", d.RoleARN, !update, 1, 512, arnPattern)
	v.str(path+".bucketARN", d.BucketARN, !update, 1, 2048, arnPattern)
	v.str(path+".prefix", d.Prefix, false, 0, 1024, anyPattern)
	v.str(path+".errorOutputPrefix", d.ErrorOutputPrefix, false, 0, 1024, anyPattern)
	v.buffering(path+".bufferingHints", d.BufferingHints, 128)
	v.str(path+".compressionFormat", d.CompressionFormat, false, 0, 0, nil, compressions...)
	if d.EncryptionConfiguration != nil {
		v.str(path+".encryptionConfiguration.noEncryptionConfig", d.EncryptionConfiguration.NoEncryptionConfig, false, 0, 0, nil, "NoEncryption")
	}
	v.logging(path+".cloudWatchLoggingOptions", d.CloudWatchLoggingOptions)
	v.str(path+".s3BackupMode", d.S3BackupMode, false, 0, 0, nil, "Disabled", "Enabled")
	v.s3(path+".s3BackupConfiguration", d.S3BackupConfiguration, false)
	v.s3(path+".s3BackupUpdate", d.S3BackupUpdate, true)
	v.str(path+".fileExtension", d.FileExtension, false, 0, 128, extensionPattern)
	v.str(path+".customTimeZone", d.CustomTimeZone, false, 0, 50, nil)
}

func (v *violations) http(path string, d *httpDestination, update bool) {
	if d == nil {
		return
	}
	if e := d.EndpointConfiguration; e == nil {
		if !update {
			v.null(path + ".endpointConfiguration")
		}
	} else {
		url := httpsPattern
		if v.plainHTTP {
			url = httpPattern
		}
		v.str(path+".endpointConfiguration.url", e.Url, true, 1, 1000, url)
		v.str(path+".endpointConfiguration.name", e.Name, false, 1, 256, endpointName)
		v.str(path+".endpointConfiguration.accessKey", e.AccessKey, false, 0, 4096, anyPattern)
	}
	v.buffering(path+".bufferingHints", d.BufferingHints, 64)
	v.logging(path+".cloudWatchLoggingOptions", d.CloudWatchLoggingOptions)
	if r := d.RequestConfiguration; r != nil {
		v.str(path+".requestConfiguration.contentEncoding", r.ContentEncoding, false, 0, 0, nil, "NONE", "GZIP")
		v.list(path+".requestConfiguration.commonAttributes", len(r.CommonAttributes), true, false, 0, 50)
		for i, a := range r.CommonAttributes {
			at := path + ".requestConfiguration.commonAttributes." + strconv.Itoa(i+1) + ".member."
			v.str(at+"attributeName", a.AttributeName, true, 1, 256, nil)
			v.str(at+"attributeValue", a.AttributeValue, true, 0, 1024, nil)
		}
	}
	v.str(path+".roleARN", d.RoleARN, false, 1, 512, arnPattern)
	if d.RetryOptions != nil {
		v.integer(path+".retryOptions.durationInSeconds", d.RetryOptions.DurationInSeconds, 0, 7200)
	}
	v.str(path+".s3BackupMode", d.S3BackupMode, false, 0, 0, nil, "FailedDataOnly", "AllData")
	if d.S3Configuration == nil && !update {
		v.null(path + ".s3Configuration")
	}
	v.s3(path+".s3Configuration", d.S3Configuration, false)
	v.s3(path+".s3Update", d.S3Update, true)
}

func (v *violations) encryptionInput(path string, e *encryptionInput) {
	if e == nil {
		return
	}
	v.str(path+".keyARN", e.KeyARN, false, 1, 512, arnPattern)
	v.str(path+".keyType", e.KeyType, true, 0, 0, nil, keyTypes...)
}
