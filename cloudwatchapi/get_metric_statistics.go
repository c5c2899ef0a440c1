package cloudwatchapi

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/statistic"
)

// maxDatapoints is CloudWatch's bound on one GetMetricStatistics answer.
const maxDatapoints = 1440

type getMetricStatisticsInput struct {
	Namespace          *string     `json:"Namespace"`
	MetricName         *string     `json:"MetricName"`
	Dimensions         []dimension `json:"Dimensions"`
	StartTime          *stamp      `json:"StartTime"`
	EndTime            *stamp      `json:"EndTime"`
	Period             *int64      `json:"Period"`
	Statistics         []string    `json:"Statistics"`
	ExtendedStatistics []string    `json:"ExtendedStatistics"`
	Unit               *string     `json:"Unit"`
}

func (in *getMetricStatisticsInput) fromForm(f url.Values) (err error) {
	in.Namespace, in.MetricName, in.Unit = formString(f, "Namespace"), formString(f, "MetricName"), formString(f, "Unit")
	in.Dimensions = formDimensions(f, "Dimensions")
	in.Statistics, in.ExtendedStatistics = formStrings(f, "Statistics"), formStrings(f, "ExtendedStatistics")
	if in.StartTime, err = formStamp(f, "StartTime"); err != nil {
		return err
	}
	if in.EndTime, err = formStamp(f, "EndTime"); err != nil {
		return err
	}
	in.Period, err = formInt(f, "Period")
	return err
}

type getMetricStatisticsOutput struct {
	Label      string      `json:"Label" xml:"Label"`
	Datapoints []datapoint `json:"Datapoints" xml:"Datapoints>member"`
}

type datapoint struct {
	Timestamp          stamp    `json:"Timestamp" xml:"Timestamp"`
	SampleCount        *double  `json:"SampleCount,omitempty" xml:"SampleCount,omitempty"`
	Average            *double  `json:"Average,omitempty" xml:"Average,omitempty"`
	Sum                *double  `json:"Sum,omitempty" xml:"Sum,omitempty"`
	Minimum            *double  `json:"Minimum,omitempty" xml:"Minimum,omitempty"`
	Maximum            *double  `json:"Maximum,omitempty" xml:"Maximum,omitempty"`
	Unit               string   `json:"Unit" xml:"Unit"`
	ExtendedStatistics valueMap `json:"ExtendedStatistics,omitempty" xml:"ExtendedStatistics,omitempty"`
}

// getMetricStatistics answers a metric's statistics per period, each
// datapoint with only the statistics asked for.
func getMetricStatistics(ctx context.Context, a sources, d decoder) (any, error) {
	var in getMetricStatisticsInput
	if err := d.decode(&in); err != nil {
		return nil, err
	}
	q, err := in.check()
	if err != nil {
		return nil, err
	}
	out := getMetricStatisticsOutput{Label: q.MetricName, Datapoints: []datapoint{}}
	if !a.has(q.Namespace) {
		return out, nil // no one publishes there
	}
	stats, err := a.GetMetricStatistics(ctx, q)
	switch {
	case errors.Is(err, shardlog.ErrInvalidArgument):
		return out, nil // with the input checked: a metric Kinesis does not publish
	case err != nil:
		return nil, err
	}
	for _, dp := range stats.Datapoints {
		if in.Unit != nil && *in.Unit != dp.Unit {
			continue
		}
		out.Datapoints = append(out.Datapoints, in.pick(dp))
	}
	return out, nil
}

// check checks the input as CloudWatch does.
func (in *getMetricStatisticsInput) check() (shardlog.MetricStatisticsInput, error) {
	var q shardlog.MetricStatisticsInput
	for _, required := range []struct {
		name string
		set  bool
	}{{"Namespace", in.Namespace != nil}, {"MetricName", in.MetricName != nil}, {"StartTime", in.StartTime != nil},
		{"EndTime", in.EndTime != nil}, {"Period", in.Period != nil}} {
		if !required.set {
			return q, missingParameter(required.name)
		}
	}
	if err := checkNamespace("Namespace", *in.Namespace); err != nil {
		return q, err
	}
	if err := checkName("MetricName", *in.MetricName, 255); err != nil {
		return q, err
	}
	dims, err := checkDimensions("Dimensions", in.Dimensions, 30, false)
	if err != nil {
		return q, err
	}
	switch {
	case len(in.Statistics) > 0 && len(in.ExtendedStatistics) > 0:
		return q, invalidCombination("Must specify either Statistics or ExtendedStatistics, but not both.")
	case len(in.Statistics) == 0 && len(in.ExtendedStatistics) == 0:
		return q, invalidCombination("Must specify either Statistics or ExtendedStatistics.")
	case len(in.Statistics) > 5:
		return q, invalidValue("The collection Statistics must not have more than 5 members.")
	case len(in.ExtendedStatistics) > 10:
		return q, invalidValue("The collection ExtendedStatistics must not have more than 10 members.")
	}
	for i, s := range in.Statistics {
		if !slices.Contains(statistic.Basic, s) {
			return q, invalidValue(fmt.Sprintf("The parameter Statistics.member.%d must be a value in the set %v.", i+1, statistic.Basic))
		}
	}
	for i, s := range in.ExtendedStatistics {
		if !statistic.IsPercentile(s) {
			return q, invalidValue(fmt.Sprintf("The parameter ExtendedStatistics.member.%d must be a percentile, p0 to p100.", i+1))
		}
	}
	if in.Unit != nil && !slices.Contains(units, *in.Unit) {
		return q, invalidValue(fmt.Sprintf("The parameter Unit must be a value in the set %v.", units))
	}
	period, err := checkPeriod("Period", *in.Period)
	if err != nil {
		return q, err
	}
	start, end, err := checkSpan(in.StartTime, in.EndTime)
	if err != nil {
		return q, err
	}
	if asked := time.Duration(*in.Period) * time.Second; (end.Sub(start)+asked-1)/asked > maxDatapoints {
		n := (end.Sub(start) + asked - 1) / asked
		return q, invalidCombination("You have requested up to " + thousands(int64(n)) +
			" datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.")
	}
	return shardlog.MetricStatisticsInput{Namespace: *in.Namespace, MetricName: *in.MetricName, Dimensions: dims,
		StartTime: start, EndTime: end, Period: period}, nil
}

// pick returns the statistics of dp the input asks for.
func (in *getMetricStatisticsInput) pick(dp shardlog.Datapoint) datapoint {
	out := datapoint{Timestamp: stamp{dp.Timestamp}, Unit: dp.Unit}
	for _, s := range in.Statistics {
		switch s {
		case "SampleCount":
			out.SampleCount = ptr(dp.SampleCount)
		case "Average":
			out.Average = ptr(dp.Average)
		case "Sum":
			out.Sum = ptr(dp.Sum)
		case "Minimum":
			out.Minimum = ptr(dp.Minimum)
		case "Maximum":
			out.Maximum = ptr(dp.Maximum)
		}
	}
	if len(in.ExtendedStatistics) > 0 && dp.Minimum == dp.Maximum {
		// A statistic set's percentiles are known only when its samples agree.
		out.ExtendedStatistics = valueMap{}
		for _, p := range in.ExtendedStatistics {
			out.ExtendedStatistics[p] = double(dp.Minimum)
		}
	}
	return out
}

// valueMap is a map of statistics, which the query protocol writes as
// entries of a key and a value.
type valueMap map[string]double

func (m valueMap) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	type entry struct {
		Key   string `xml:"key"`
		Value double `xml:"value"`
	}
	entries := make([]entry, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		entries = append(entries, entry{k, m[k]})
	}
	return e.EncodeElement(struct {
		Entries []entry `xml:"entry"`
	}{entries}, start)
}

func ptr(v float64) *double {
	d := double(v)
	return &d
}

// thousands writes n with commas, as CloudWatch's messages do.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
