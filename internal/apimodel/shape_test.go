package apimodel

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMatchersAgreeWithRegexp: the hand-written matchers of the hottest
// patterns accept exactly what the model's regular expressions accept.
func TestMatchersAgreeWithRegexp(t *testing.T) {
	inputs := []string{"", "0", "00", "01", "1", "10", "a", "a b", "A-z_.9", "é", "-", "12x",
		strings.Repeat("9", 39), strings.Repeat("9", 40), "1" + strings.Repeat("0", 128), "1" + strings.Repeat("0", 129)}
	for _, pattern := range []string{"[a-zA-Z0-9_.-]+", `0|([1-9]\d{0,38})`, `0|([1-9]\d{0,128})`} {
		re := regexp.MustCompile(`^(?:` + pattern + `)$`)
		m := matcher(pattern)
		for _, in := range inputs {
			require.Equal(t, re.MatchString(in), m(in), "%s on %q", pattern, in)
		}
	}
}
