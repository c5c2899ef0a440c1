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

// TestLookarounds: the model's patterns with lookarounds, which Go's
// regexp lacks, match as Java's would.
func TestLookarounds(t *testing.T) {
	key := matcher(`^(?!aws:)[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$`)
	require.True(t, key("team"))
	require.True(t, key("a-aws:b"))
	require.False(t, key("aws:x"))
	require.False(t, key("a#b"))
	notBlank := matcher(`^(?!\s*$).+`)
	require.True(t, notBlank(" x "))
	require.False(t, notBlank("   "))
	require.False(t, notBlank(""))
	jdbc := matcher(`jdbc:(redshift|postgresql)://((?!-)[A-Za-z0-9-]{1,63}(?<!-)\.)+(redshift(-serverless)?)\.([a-zA-Z0-9\.]+):\d{1,5}/[a-zA-Z0-9_$-]+`)
	require.True(t, jdbc("jdbc:redshift://c.abc.us-east-1.redshift.amazonaws.com:5439/dev"))
	require.False(t, jdbc("jdbc:mysql://x"))
}

// TestJudgeAndRewrite: Judge tells a body of the wrong types from one
// that fits; Rewrite changes a constraint in a copy only.
func TestJudgeAndRewrite(t *testing.T) {
	url := &Shape{Name: "Url", Kind: String, Pattern: "https://.*"}
	root := &Shape{Name: "In", Kind: Structure, Members: []Member{{Name: "Url", Required: true, Shape: url}, {Name: "N", Shape: &Shape{Name: "N", Kind: Integer, HasMax: true, Max: 5}}}}
	roots := map[string]*Shape{"Op": root}
	Compile(roots)
	fits, err := Judge([]byte(`{"Url":"https://x","N":3}`), root, "p")
	require.True(t, fits)
	require.NoError(t, err)
	fits, err = Judge([]byte(`{"Url":"https://x","N":"three"}`), root, "p")
	require.False(t, fits)
	require.NoError(t, err)
	fits, err = Judge([]byte(`{"Url":"http://x","N":6}`), root, "p")
	require.True(t, fits)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "2 validation errors detected: Value 'http://x' at 'url' failed to satisfy constraint: Member must satisfy regular expression pattern: https://.*; "+
		"Value '6' at 'n' failed to satisfy constraint: Member must have value less than or equal to 5", ve.Message)

	plain := Rewrite(roots, func(s *Shape) {
		if s.Name == "Url" {
			s.Pattern = "https?://.*"
		}
	})
	require.NoError(t, Validate([]byte(`{"Url":"http://x"}`), plain["Op"], "p"))
	require.Error(t, Validate([]byte(`{"Url":"http://x"}`), root, "p"), "the original is unchanged")
}

// TestAmbiguousMembers: a member given twice, or named in another case,
// is refused: Go's decoder would keep a value the check never saw.
func TestAmbiguousMembers(t *testing.T) {
	data := &Shape{Name: "Data", Kind: Blob, HasMax: true, Max: 3}
	root := &Shape{Name: "In", Kind: Structure, Members: []Member{{Name: "Data", Required: true, Shape: data}}}
	Compile(map[string]*Shape{"Op": root})
	for body, want := range map[string]string{
		`{"Data":"eA==","Data":null}`:       "The request gives the member Data twice.",
		`{"Data":null,"Data":"eA=="}`:       "The request gives the member Data twice.",
		`{"Data":"eA==","data":"eHh4eHh4"}`: "The request names the member data in a case the model does not.",
	} {
		_, err := Judge([]byte(body), root, "p")
		var se *SerializationError
		require.ErrorAs(t, err, &se, body)
		require.Equal(t, want, se.Message)
	}
	require.NoError(t, Validate([]byte(`{"Data":"eA==","Other":1}`), root, "p"), "members the model lacks are ignored")
}
