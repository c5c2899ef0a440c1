// Package statistic names CloudWatch's statistics, for the account's
// metric queries and the CloudWatch API alike.
package statistic

import (
	"strconv"
	"strings"
)

// Basic are CloudWatch's basic statistics, in its documentation's order.
var Basic = []string{"SampleCount", "Average", "Sum", "Minimum", "Maximum"}

// IsPercentile reports whether stat is a percentile statistic: p0 to p100,
// with at most two decimals (p99.99).
func IsPercentile(stat string) bool {
	digits, ok := strings.CutPrefix(stat, "p")
	if !ok || digits == "" || strings.Trim(digits, "0123456789.") != "" {
		return false
	}
	if whole, frac, dot := strings.Cut(digits, "."); dot && (whole == "" || frac == "" || len(frac) > 2) {
		return false
	}
	rank, err := strconv.ParseFloat(digits, 64)
	return err == nil && rank <= 100
}
