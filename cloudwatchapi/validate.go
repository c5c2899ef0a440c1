package cloudwatchapi

import (
	"strconv"
	"strings"
	"time"

	"github.com/shardlog/shardlog"
)

// dimension is CloudWatch's Dimension, or a DimensionFilter (whose Value
// may be absent).
type dimension struct {
	Name  string  `json:"Name" xml:"Name"`
	Value *string `json:"Value,omitempty" xml:"Value,omitempty"`
}

// checkName checks a namespace, metric or dimension name or value as
// CloudWatch does: ASCII, not blank, no control characters, within max.
func checkName(param, v string, maxLen int) error {
	if len(v) > maxLen {
		return invalidValue("The parameter " + param + " must be at most " + strconv.Itoa(maxLen) + " characters long.")
	}
	if strings.TrimSpace(v) == "" {
		return invalidValue("The parameter " + param + " must contain at least one non-whitespace character.")
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f {
			return invalidValue("The parameter " + param + " must contain only printable ASCII characters.")
		}
	}
	return nil
}

// checkNamespace checks a namespace, which is also not to start with a
// colon.
func checkNamespace(param, v string) error {
	if err := checkName(param, v, 255); err != nil {
		return err
	}
	if strings.HasPrefix(v, ":") {
		return invalidValue("The parameter " + param + " must not start with a colon.")
	}
	return nil
}

// checkDimensions checks a list of dimensions (filters if valueOptional)
// and returns them as shardlog's.
func checkDimensions(param string, dims []dimension, maxLen int, valueOptional bool) ([]shardlog.Dimension, error) {
	if len(dims) > maxLen {
		return nil, invalidValue("The collection " + param + " must not have more than " + strconv.Itoa(maxLen) + " members.")
	}
	out := make([]shardlog.Dimension, len(dims))
	for i, d := range dims {
		member := param + ".member." + strconv.Itoa(i+1)
		if err := checkName(member+".Name", d.Name, 255); err != nil {
			return nil, err
		}
		if d.Value == nil {
			if !valueOptional {
				return nil, missingParameter(member + ".Value")
			}
			out[i] = shardlog.Dimension{Name: d.Name}
			continue
		}
		if err := checkName(member+".Value", *d.Value, 1024); err != nil {
			return nil, err
		}
		out[i] = shardlog.Dimension{Name: d.Name, Value: *d.Value}
	}
	return out, nil
}

// checkPeriod checks a period in seconds and returns the one the metrics
// are kept at: CloudWatch accepts 1, 5, 10, 20 and 30 seconds (for
// high-resolution metrics) and multiples of a minute; Kinesis's metrics
// are per minute, so the short periods read minutes.
func checkPeriod(param string, seconds int64) (time.Duration, error) {
	switch {
	case seconds <= 0:
		return 0, invalidValue("The parameter " + param + " must be greater than 0.")
	case seconds > 1<<31:
		return 0, invalidValue("The parameter " + param + " is too large.")
	case seconds == 1, seconds == 5, seconds == 10, seconds == 20, seconds == 30:
		return time.Minute, nil
	case seconds%60 != 0:
		return 0, invalidValue("The parameter " + param + " must be 1, 5, 10, 20, 30 or a multiple of 60.")
	}
	return time.Duration(seconds) * time.Second, nil
}

// checkSpan checks a query's time range.
func checkSpan(start, end *stamp) (time.Time, time.Time, error) {
	switch {
	case start == nil:
		return time.Time{}, time.Time{}, missingParameter("StartTime")
	case end == nil:
		return time.Time{}, time.Time{}, missingParameter("EndTime")
	case !start.Before(end.Time):
		return time.Time{}, time.Time{}, invalidValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	return start.Time, end.Time, nil
}

// units are CloudWatch's StandardUnit values.
var units = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
	"Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
	"Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}
