package seqnum

import (
	"math/big"
	"strconv"
	"testing"
	"time"
)

// TestAWSVerdict: Kinesis's judgment of SequenceNumberForOrdering values
// of its own layout, case by case as responses recorded against AWS show.
func TestAWSVerdict(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	dec := func(hex string) string {
		n, _ := new(big.Int).SetString(hex, 16)
		return n.String()
	}
	soon := strconv.FormatInt(now.Unix()+2, 16)
	past := strconv.FormatInt(now.Unix()-2, 16)
	for _, tc := range []struct {
		name, number string
		want         Verdict
	}{
		{"a real one", "49590338271490256608559692538361571095921575989136588898", AWSValid},
		{"all f", dec("2ffffffffff7fffffffffffffff000000000007fffffff2"), AWSValid},
		{"all 0", dec("20000000000000000000000000000000000000000000002"), AWSValid},
		{"all 0, version 1", dec("20000000000000000000000000000000000000000000001"), AWSValid},
		{"time is now", dec("2ffffffffff7fffffff7fffffff000" + past + "7fffffff2"), AWSValid},
		{"version 0", dec("20000000000000000000000000000000000000000000000"), AWSInvalid},
		{"version 4", dec("20000000000000000000000000000000000000000000004"), AWSInvalid},
		{"version 3", dec("20000000000000000000000000000000000000000000003"), AWSInternalFailure},
		{"leading 3", dec("30000000000000000000000000000000000000000000001"), AWSInvalid},
		{"leading 1", dec("1ffffffffff7fffffffffffffff000000000007fffffff2"), AWSInvalid},
		{"8 in the counter", dec("20000000000800000000000000000000000000000000002"), AWSInvalid},
		{"8 in the shard index", dec("20000000000000000000000000000000000000800000002"), AWSInvalid},
		{"a future time", dec("200000000000000000000000000000" + soon + "000000002"), AWSInvalid},
		{"a creation date too large", dec("13bb2cc3d80000000000000000000000"), AWSInvalid},
		{"small", "5", AWSValid},
		{"not a number", "12x", AWSInvalid},
	} {
		if got := AWSVerdict(tc.number, now); got != tc.want {
			t.Errorf("%s (%s): got %v, want %v", tc.name, tc.number, got, tc.want)
		}
	}
}
