package statistic

import "testing"

func TestIsPercentile(t *testing.T) {
	for stat, want := range map[string]bool{
		"p0": true, "p50": true, "p99.9": true, "p99.99": true, "p100": true, "p100.00": true,
		"p": false, "p101": false, "p100.01": false, "p99.999": false, "p-1": false, "p1e1": false,
		"p.5": false, "p5.": false, "P50": false, "p 50": false, "Sum": false, "": false, "p1.2.3": false,
	} {
		if got := IsPercentile(stat); got != want {
			t.Errorf("IsPercentile(%q) = %v, want %v", stat, got, want)
		}
	}
}
