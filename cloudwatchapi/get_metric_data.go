package cloudwatchapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strconv"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/statistic"
)

const (
	// maxQueries and defaultMaxDatapoints are GetMetricData's bounds.
	maxQueries           = 500
	defaultMaxDatapoints = 100800
)

type getMetricDataInput struct {
	MetricDataQueries []metricDataQuery `json:"MetricDataQueries"`
	StartTime         *stamp            `json:"StartTime"`
	EndTime           *stamp            `json:"EndTime"`
	NextToken         *string           `json:"NextToken"`
	ScanBy            *string           `json:"ScanBy"`
	MaxDatapoints     *int64            `json:"MaxDatapoints"`
}

type metricDataQuery struct {
	ID         string      `json:"Id"`
	MetricStat *metricStat `json:"MetricStat"`
	Expression *string     `json:"Expression"`
	Label      *string     `json:"Label"`
	ReturnData *bool       `json:"ReturnData"`
}

type metricStat struct {
	Metric metric  `json:"Metric"`
	Period *int64  `json:"Period"`
	Stat   string  `json:"Stat"`
	Unit   *string `json:"Unit"`
}

type metric struct {
	Namespace  string      `json:"Namespace" xml:"Namespace"`
	MetricName string      `json:"MetricName" xml:"MetricName"`
	Dimensions []dimension `json:"Dimensions" xml:"Dimensions>member"`
}

func (in *getMetricDataInput) fromForm(f url.Values) (err error) {
	err = members(f, "MetricDataQueries", ".Id", func(p string) error {
		q := metricDataQuery{ID: f.Get(p + ".Id"), Expression: formString(f, p+".Expression"), Label: formString(f, p+".Label")}
		if q.ReturnData, err = formBool(f, p+".ReturnData"); err != nil {
			return err
		}
		if s := p + ".MetricStat"; f.Has(s+".Stat") || f.Has(s+".Period") || f.Has(s+".Metric.MetricName") {
			q.MetricStat = &metricStat{Stat: f.Get(s + ".Stat"), Unit: formString(f, s+".Unit"), Metric: metric{
				Namespace: f.Get(s + ".Metric.Namespace"), MetricName: f.Get(s + ".Metric.MetricName"),
				Dimensions: formDimensions(f, s+".Metric.Dimensions"),
			}}
			if q.MetricStat.Period, err = formInt(f, s+".Period"); err != nil {
				return err
			}
		}
		in.MetricDataQueries = append(in.MetricDataQueries, q)
		return nil
	})
	if err != nil {
		return err
	}
	if in.StartTime, err = formStamp(f, "StartTime"); err != nil {
		return err
	}
	if in.EndTime, err = formStamp(f, "EndTime"); err != nil {
		return err
	}
	in.NextToken, in.ScanBy = formString(f, "NextToken"), formString(f, "ScanBy")
	in.MaxDatapoints, err = formInt(f, "MaxDatapoints")
	return err
}

type getMetricDataOutput struct {
	MetricDataResults []metricDataResult `json:"MetricDataResults" xml:"MetricDataResults>member"`
	NextToken         *string            `json:"NextToken,omitempty" xml:"NextToken,omitempty"`
	Messages          []messageData      `json:"Messages" xml:"Messages>member"`
}

type metricDataResult struct {
	ID         string        `json:"Id" xml:"Id"`
	Label      string        `json:"Label" xml:"Label"`
	Timestamps []stamp       `json:"Timestamps" xml:"Timestamps>member"`
	Values     []double      `json:"Values" xml:"Values>member"`
	StatusCode string        `json:"StatusCode" xml:"StatusCode"`
	Messages   []messageData `json:"Messages" xml:"Messages>member"`
}

type messageData struct {
	Code  string `json:"Code" xml:"Code"`
	Value string `json:"Value" xml:"Value"`
}

// getMetricData answers several series, newest first unless asked
// otherwise, a page of at most MaxDatapoints values at a time.
func getMetricData(ctx context.Context, a sources, d decoder) (any, error) {
	var in getMetricDataInput
	if err := d.decode(&in); err != nil {
		return nil, err
	}
	queries, err := in.check()
	if err != nil {
		return nil, err
	}
	skip, err := in.offset()
	if err != nil {
		return nil, err
	}
	data, err := a.GetMetricData(ctx, shardlog.MetricDataInput{Queries: queries, StartTime: in.StartTime.Time, EndTime: in.EndTime.Time})
	if err != nil {
		return nil, err
	}
	limit := int64(defaultMaxDatapoints)
	if in.MaxDatapoints != nil {
		limit = *in.MaxDatapoints
	}
	ascending := in.ScanBy != nil && *in.ScanBy == "TimestampAscending"
	out := getMetricDataOutput{MetricDataResults: []metricDataResult{}, Messages: []messageData{}}
	var seen int64 // values before this page's, then through it
	for i, q := range in.MetricDataQueries {
		if q.ReturnData != nil && !*q.ReturnData {
			continue
		}
		r := data.Results[i]
		if !ascending {
			slices.Reverse(r.Timestamps)
			slices.Reverse(r.Values)
		}
		res := metricDataResult{ID: q.ID, Label: q.MetricStat.Metric.MetricName, StatusCode: "Complete",
			Timestamps: []stamp{}, Values: []double{}, Messages: []messageData{}}
		if q.Label != nil {
			res.Label = *q.Label
		}
		for j, t := range r.Timestamps {
			switch {
			case seen < skip:
			case seen-skip < limit:
				res.Timestamps = append(res.Timestamps, stamp{t})
				res.Values = append(res.Values, double(r.Values[j]))
			default:
				if out.NextToken == nil {
					token := encodeOffset(seen)
					out.NextToken = &token
				}
				res.StatusCode = "PartialData"
			}
			seen++
		}
		out.MetricDataResults = append(out.MetricDataResults, res)
	}
	return out, nil
}

// check checks the input as CloudWatch does and returns shardlog's queries,
// one per query of the input.
func (in *getMetricDataInput) check() ([]shardlog.MetricDataQuery, error) {
	switch {
	case len(in.MetricDataQueries) == 0:
		return nil, missingParameter("MetricDataQueries")
	case len(in.MetricDataQueries) > maxQueries:
		return nil, invalidValue(fmt.Sprintf("The collection MetricDataQueries must not have more than %d members.", maxQueries))
	}
	if _, _, err := checkSpan(in.StartTime, in.EndTime); err != nil {
		return nil, err
	}
	if in.ScanBy != nil && *in.ScanBy != "TimestampDescending" && *in.ScanBy != "TimestampAscending" {
		return nil, invalidValue("The parameter ScanBy must be TimestampDescending or TimestampAscending.")
	}
	if in.MaxDatapoints != nil && *in.MaxDatapoints <= 0 {
		return nil, invalidValue("The parameter MaxDatapoints must be greater than 0.")
	}
	out := make([]shardlog.MetricDataQuery, len(in.MetricDataQueries))
	ids := make(map[string]bool, len(in.MetricDataQueries))
	for i, q := range in.MetricDataQueries {
		member := "MetricDataQueries.member." + strconv.Itoa(i+1)
		if !validID(q.ID) {
			return nil, invalidValue("The value " + q.ID + " for parameter " + member + ".Id is not valid: an Id starts with a lowercase letter and holds letters, digits and underscores.")
		}
		if ids[q.ID] {
			return nil, invalidValue("The value " + q.ID + " for parameter " + member + ".Id is used by another query.")
		}
		ids[q.ID] = true
		switch {
		case q.Expression != nil && q.MetricStat != nil:
			return nil, invalidCombination("The parameters " + member + ".MetricStat and " + member + ".Expression are mutually exclusive.")
		case q.Expression != nil:
			return nil, invalidValue("Metric math and Metrics Insights expressions are not supported by shardlog (" + member + ".Expression).")
		case q.MetricStat == nil:
			return nil, invalidCombination("The parameter " + member + " must have a MetricStat or an Expression.")
		}
		sq, err := q.MetricStat.check(member + ".MetricStat")
		if err != nil {
			return nil, err
		}
		out[i] = sq
	}
	return out, nil
}

// check checks a MetricStat.
func (m *metricStat) check(param string) (shardlog.MetricDataQuery, error) {
	var q shardlog.MetricDataQuery
	if err := checkNamespace(param+".Metric.Namespace", m.Metric.Namespace); err != nil {
		return q, err
	}
	if err := checkName(param+".Metric.MetricName", m.Metric.MetricName, 255); err != nil {
		return q, err
	}
	dims, err := checkDimensions(param+".Metric.Dimensions", m.Metric.Dimensions, 30, false)
	if err != nil {
		return q, err
	}
	if m.Period == nil {
		return q, missingParameter(param + ".Period")
	}
	period, err := checkPeriod(param+".Period", *m.Period)
	if err != nil {
		return q, err
	}
	if !slices.Contains(statistic.Basic, m.Stat) && !statistic.IsPercentile(m.Stat) {
		return q, invalidValue("The parameter " + param + ".Stat must be SampleCount, Average, Sum, Minimum, Maximum or a percentile p0 to p100.")
	}
	if m.Unit != nil && !slices.Contains(units, *m.Unit) {
		return q, invalidValue(fmt.Sprintf("The parameter %s.Unit must be a value in the set %v.", param, units))
	}
	q = shardlog.MetricDataQuery{Namespace: m.Metric.Namespace, MetricName: m.Metric.MetricName, Dimensions: dims,
		Period: period, Stat: m.Stat}
	if m.Unit != nil {
		q.Unit = *m.Unit
	}
	return q, nil
}

// validID reports whether id is a MetricDataQuery Id: a lowercase letter,
// then letters, digits and underscores, at most 255.
func validID(id string) bool {
	if id == "" || len(id) > 255 || id[0] < 'a' || id[0] > 'z' {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// offset reads the page a NextToken asks for: the values already given.
func (in *getMetricDataInput) offset() (int64, error) {
	if in.NextToken == nil {
		return 0, nil
	}
	n, ok := decodeOffset(*in.NextToken)
	if !ok {
		return 0, invalidNextToken()
	}
	return n, nil
}

// encodeOffset and decodeOffset make a page's position a token.
func encodeOffset(n int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o" + strconv.FormatInt(n, 10)))
}

func decodeOffset(token string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) < 2 || b[0] != 'o' {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b[1:]), 10, 64)
	return n, err == nil && n >= 0
}
