package shardlog_test

import (
	"strings"
	"testing"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

func TestTagRules(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	for _, tc := range []struct {
		tags map[string]string
		msg  string
	}{
		{map[string]string{"": "v"}, "Tag keys must be 1 to 128 characters and tag values at most 256 characters."},
		{map[string]string{strings.Repeat("k", 129): "v"}, "Tag keys must be 1 to 128 characters and tag values at most 256 characters."},
		{map[string]string{"k": strings.Repeat("v", 257)}, "Tag keys must be 1 to 128 characters and tag values at most 256 characters."},
		{map[string]string{"AWS:x": "v"}, "Tag keys may not start with 'aws:'; AWS:x does."},
		{map[string]string{"k": "a|b"}, invalidTagText},
		// Kinesis's set, as recorded: no tab, line break, comma or ';'.
		{map[string]string{"a\tb": "v"}, invalidTagText},
		{map[string]string{"k": "a\nb"}, invalidTagText},
		{map[string]string{"a,b": "v"}, invalidTagText},
		{map[string]string{"k": "a;b"}, invalidTagText},
		// '%' is in the set it lists, and refused all the same.
		{map[string]string{"a%b": "v"}, "Failed to add tags to stream s under account 123456789012 because some tags contained illegal characters. " +
			"The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@'."},
		{map[string]string{"k": "a%b"}, "Failed to add tags to stream s under account 123456789012 because some tags contained illegal characters. " +
			"The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@'."},
	} {
		requireCode(t, s.AddTagsToStream(ctx, tc.tags), shardlog.ErrInvalidArgument, tc.msg)
	}
	requireCode(t, s.RemoveTagsFromStream(ctx, []string{"a\tb"}), shardlog.ErrInvalidArgument, invalidTagText)
	requireCode(t, s.RemoveTagsFromStream(ctx, []string{"ok", "a%b"}), shardlog.ErrInvalidArgument,
		"Failed to remove tags from stream s under account 123456789012 because some tags contained illegal characters. "+
			"The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@'.")
	ok := map[string]string{"ü0 _.": "a", "/=+-@": "a", "b": "ü0 _./=+-@", "c": "", "é\u00a0kèy": strings.Repeat("v", 256), strings.Repeat("k", 128): ""}
	require.NoError(t, s.AddTagsToStream(ctx, ok))
	out, err := s.ListTagsForStream(ctx, shardlog.ListTagsForStreamInput{})
	require.NoError(t, err)
	require.Len(t, out.Tags, 6)
}

const invalidTagText = "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @."
