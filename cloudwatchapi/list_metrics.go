package cloudwatchapi

import (
	"context"
	"net/url"

	"github.com/shardlog/shardlog"
)

// listPage is ListMetrics's page size.
const listPage = 500

// operations maps each operation served to its implementation; see the file
// named after it.
var operations = map[string]func(context.Context, sources, decoder) (any, error){
	"GetMetricStatistics": getMetricStatistics,
	"GetMetricData":       getMetricData,
	"ListMetrics":         listMetrics,
}

type listMetricsInput struct {
	Namespace             *string     `json:"Namespace"`
	MetricName            *string     `json:"MetricName"`
	Dimensions            []dimension `json:"Dimensions"`
	NextToken             *string     `json:"NextToken"`
	RecentlyActive        *string     `json:"RecentlyActive"`
	IncludeLinkedAccounts *bool       `json:"IncludeLinkedAccounts"`
	OwningAccount         *string     `json:"OwningAccount"`
}

func (in *listMetricsInput) fromForm(f url.Values) (err error) {
	in.Namespace, in.MetricName = formString(f, "Namespace"), formString(f, "MetricName")
	in.Dimensions = formDimensions(f, "Dimensions")
	in.NextToken, in.RecentlyActive = formString(f, "NextToken"), formString(f, "RecentlyActive")
	in.OwningAccount = formString(f, "OwningAccount")
	in.IncludeLinkedAccounts, err = formBool(f, "IncludeLinkedAccounts")
	return err
}

type listMetricsOutput struct {
	Metrics   []metric `json:"Metrics" xml:"Metrics>member"`
	NextToken *string  `json:"NextToken,omitempty" xml:"NextToken,omitempty"`
}

// listMetrics names the series that match the filters, 500 at a time.
func listMetrics(ctx context.Context, a sources, d decoder) (any, error) {
	var in listMetricsInput
	if err := d.decode(&in); err != nil {
		return nil, err
	}
	filters, err := in.check()
	if err != nil {
		return nil, err
	}
	skip := int64(0)
	if in.NextToken != nil {
		var ok bool
		if skip, ok = decodeOffset(*in.NextToken); !ok {
			return nil, invalidValue("The parameter NextToken is not valid.")
		}
	}
	all, err := a.ListMetrics(ctx)
	if err != nil {
		return nil, err
	}
	out := listMetricsOutput{Metrics: []metric{}}
	var seen int64
	for _, m := range all {
		if !in.matches(m, filters) {
			continue
		}
		switch {
		case seen < skip:
		case len(out.Metrics) < listPage:
			out.Metrics = append(out.Metrics, metricOf(m))
		default:
			token := encodeOffset(seen)
			out.NextToken = &token
			return out, nil
		}
		seen++
	}
	return out, nil
}

// check checks the filters as CloudWatch does.
func (in *listMetricsInput) check() ([]shardlog.Dimension, error) {
	if in.Namespace != nil {
		if err := checkNamespace("Namespace", *in.Namespace); err != nil {
			return nil, err
		}
	}
	if in.MetricName != nil {
		if err := checkName("MetricName", *in.MetricName, 255); err != nil {
			return nil, err
		}
	}
	if in.RecentlyActive != nil && *in.RecentlyActive != "PT3H" {
		return nil, invalidValue("The parameter RecentlyActive must be PT3H.")
	}
	return checkDimensions("Dimensions", in.Dimensions, 10, true)
}

// matches reports whether m passes the filters: the same namespace and
// name, and each filter's dimension (with its value, if it names one).
func (in *listMetricsInput) matches(m shardlog.Metric, filters []shardlog.Dimension) bool {
	if in.Namespace != nil && *in.Namespace != m.Namespace || in.MetricName != nil && *in.MetricName != m.MetricName {
		return false
	}
	for i, f := range filters {
		found := false
		for _, d := range m.Dimensions {
			found = found || d.Name == f.Name && (in.Dimensions[i].Value == nil || d.Value == f.Value)
		}
		if !found {
			return false
		}
	}
	return true
}

func metricOf(m shardlog.Metric) metric {
	out := metric{Namespace: m.Namespace, MetricName: m.MetricName, Dimensions: make([]dimension, len(m.Dimensions))}
	for i, d := range m.Dimensions {
		out.Dimensions[i] = dimension{Name: d.Name, Value: &d.Value}
	}
	return out
}
