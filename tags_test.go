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
		{map[string]string{"k": "a|b"}, "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @."},
	} {
		requireCode(t, s.AddTagsToStream(ctx, tc.tags), shardlog.ErrInvalidArgument, tc.msg)
	}
	ok := map[string]string{"é kèy_./=+-%@": strings.Repeat("v", 256), strings.Repeat("k", 128): ""}
	require.NoError(t, s.AddTagsToStream(ctx, ok))
	out, err := s.ListTagsForStream(ctx, shardlog.ListTagsForStreamInput{})
	require.NoError(t, err)
	require.Len(t, out.Tags, 2)
}
