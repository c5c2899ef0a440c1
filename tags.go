package shardlog

import (
	"context"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Tag quotas, as Kinesis's.
const (
	maxTagsPerStream = 50
	maxTagKeyLen     = 128
	maxTagValueLen   = 256
)

// Tag is a stream tag.
type Tag struct {
	Key   string
	Value string
}

// checkTags validates tag keys and values: keys of 1 to 128 characters not
// starting with "aws:", values of 0 to 256, both of Unicode letters,
// digits, white space and _ . / = + - @; op ("add" or "remove") words the
// answer to a '%', which Kinesis lists as valid and refuses.
func checkTags(op, stream, account string, tags map[string]string) error {
	for k, v := range tags {
		if k == "" || len([]rune(k)) > maxTagKeyLen || len([]rune(v)) > maxTagValueLen {
			return newError(ErrInvalidArgument, "Tag keys must be 1 to %d characters and tag values at most %d characters.", maxTagKeyLen, maxTagValueLen)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return newError(ErrInvalidArgument, "Tag keys may not start with 'aws:'; %s does.", k)
		}
	}
	return checkTagText(op, stream, account, func(yield func(string) bool) {
		for k, v := range tags {
			if !yield(k) || !yield(v) {
				return
			}
		}
	})
}

// checkTagText checks the characters of tag keys and values as Kinesis
// does: first for characters outside its set, then for '%'.
func checkTagText(op, stream, account string, texts iter.Seq[string]) error {
	percent := false
	for t := range texts {
		for _, r := range t {
			if !tagRune(r) {
				return newError(ErrInvalidArgument, "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - %% @.")
			}
			percent = percent || r == '%'
		}
	}
	if percent {
		return newError(ErrInvalidArgument, "Failed to %s tags %s stream %s under account %s because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@'.",
			op, map[string]string{"add": "to", "remove": "from"}[op], stream, account)
	}
	return nil
}

// tagRune reports whether r may appear in a tag: a letter, a digit, a
// space separator (not a tab or a line break) or one of _ . / = + - % @.
func tagRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.In(r, unicode.Z) || strings.ContainsRune("_./=+-%@", r)
}

// cloneTags copies tags, strings included: kept tags must not pin the
// caller's memory (a request body, say).
func cloneTags(tags map[string]string) map[string]string {
	out := make(map[string]string, len(tags))
	for k, v := range tags {
		out[strings.Clone(k)] = strings.Clone(v)
	}
	return out
}

// AddTagsToStream adds or overwrites tags. A stream has at most 50 tags.
//
// Errors: ErrInvalidArgument for invalid keys or values or too many tags.
func (s *Stream) AddTagsToStream(ctx context.Context, tags map[string]string) error {
	if err := s.acct.authorizeTagging(ctx, "AddTagsToStream", s.arn, s.policy.Load(), requestTags{tags: tags}); err != nil {
		return err
	}
	if _, err := s.entered(ctx, "AddTagsToStream"); err != nil {
		return err
	}
	if len(tags) == 0 {
		return validation("tags", "", "have length greater than or equal to 1")
	}
	if err := checkTags("add", s.name, s.acct.cfg.accountID, tags); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.tags)
	for k := range tags {
		if _, ok := s.tags[k]; !ok {
			n++
		}
	}
	if n > maxTagsPerStream {
		return newError(ErrInvalidArgument, "Failed to add tags to stream %s under account %s because a given stream cannot have more than %d tags associated with it.", s.name, s.acct.cfg.accountID, maxTagsPerStream)
	}
	old := s.tags
	s.tags = maps.Clone(s.tags)
	if s.tags == nil {
		s.tags = map[string]string{}
	}
	for k, v := range tags {
		s.tags[strings.Clone(k)] = strings.Clone(v)
	}
	if err := s.persistLocked(); err != nil {
		s.tags = old
		return err
	}
	return nil
}

// RemoveTagsFromStream removes tags by key (1 to 50 keys); unknown keys are
// ignored.
func (s *Stream) RemoveTagsFromStream(ctx context.Context, keys []string) error {
	if err := s.acct.authorizeTagging(ctx, "RemoveTagsFromStream", s.arn, s.policy.Load(), requestTags{keys: keys}); err != nil {
		return err
	}
	if _, err := s.entered(ctx, "RemoveTagsFromStream"); err != nil {
		return err
	}
	switch {
	case len(keys) == 0:
		return validation("tagKeys", "", "have length greater than or equal to 1")
	case len(keys) > maxTagsPerStream:
		return validation("tagKeys", "", "have length less than or equal to 50")
	}
	if err := checkTagText("remove", s.name, s.acct.cfg.accountID, slices.Values(keys)); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.tags
	s.tags = maps.Clone(s.tags)
	for _, k := range keys {
		delete(s.tags, k)
	}
	if err := s.persistLocked(); err != nil {
		s.tags = old
		return err
	}
	return nil
}

// ListTagsForStreamOutput is one page of ListTagsForStream.
type ListTagsForStreamOutput struct {
	Tags        []Tag // in key order
	HasMoreTags bool
}

// ListTagsForStreamInput is the input of ListTagsForStream.
type ListTagsForStreamInput struct {
	Limit                int    // 1 to 50; 0 means 50
	ExclusiveStartTagKey string // list the tags after this key
}

// ListTagsForStream lists a page of the stream's tags, in key order.
func (s *Stream) ListTagsForStream(ctx context.Context, in ListTagsForStreamInput) (ListTagsForStreamOutput, error) {
	limit, exclusiveStartTagKey := in.Limit, in.ExclusiveStartTagKey
	if _, err := s.begin(ctx, "ListTagsForStream"); err != nil {
		return ListTagsForStreamOutput{}, err
	}
	switch {
	case limit == 0:
		limit = maxTagsPerStream
	case limit < 1:
		return ListTagsForStreamOutput{}, validation("limit", strconv.Itoa(limit), "have value greater than or equal to 1")
	case limit > maxTagsPerStream:
		return ListTagsForStreamOutput{}, validation("limit", strconv.Itoa(limit), "have value less than or equal to 50")
	}
	s.mu.RLock()
	out := ListTagsForStreamOutput{Tags: []Tag{}}
	for k, v := range s.tags {
		if k > exclusiveStartTagKey {
			out.Tags = append(out.Tags, Tag{k, v})
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out.Tags, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	if len(out.Tags) > limit {
		out.Tags, out.HasMoreTags = out.Tags[:limit], true
	}
	return out, nil
}
