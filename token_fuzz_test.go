package shardlog_test

import (
	"errors"
	"testing"

	"github.com/shardlog/shardlog"
)

// FuzzTokens feeds arbitrary strings to every call that takes an opaque
// token: only tokens shardlog issued are accepted, anything else fails with
// InvalidArgument or a validation error, never a panic.
func FuzzTokens(f *testing.F) {
	a, err := shardlog.NewAccount(shardlog.WithoutLimits())
	if err != nil {
		f.Fatal(err)
	}
	defer a.Close()
	if _, err := a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: 3}); err != nil {
		f.Fatal(err)
	}
	s, _ := a.Stream(shardlog.StreamRef{StreamName: "s"})
	it, _ := s.GetShardIterator(ctx, "shardId-000000000000", shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	page, _ := s.ListShards(ctx, shardlog.ListShardsInput{MaxResults: 1})
	f.Add(it)
	f.Add(page.NextToken)
	f.Add("")
	f.Add("AQE")
	f.Fuzz(func(t *testing.T, tok string) {
		check := func(op string, err error) {
			switch {
			case err == nil && tok != it && tok != page.NextToken:
				t.Fatalf("%s accepted a token shardlog did not issue: %q", op, tok)
			case err != nil && !errorsIsAny(err, shardlog.ErrInvalidArgument, shardlog.ErrValidation):
				t.Fatalf("%s: unexpected error %v for %q", op, err, tok)
			}
		}
		_, err := a.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: tok})
		check("GetRecords", err)
		if tok != "" {
			_, err = a.ListShards(ctx, shardlog.ListShardsInput{NextToken: tok})
			check("ListShards", err)
			_, err = a.ListStreams(ctx, shardlog.ListStreamsInput{NextToken: tok})
			if err != nil {
				check("ListStreams", err)
			}
			_, err = s.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{NextToken: tok})
			if err != nil {
				check("ListStreamConsumers", err)
			}
		}
	})
}

func errorsIsAny(err error, targets ...*shardlog.Error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
