package producer

import (
	"context"
	"slices"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/hashkey"
)

// shardMap predicts the shard a hash key goes to: the stream's open shards
// by hash range, as ListShards last listed them.
type shardMap struct {
	spans []span // sorted by start
}

type span struct {
	id         string
	start, end hashkey.Key
}

// loadShardMap lists the stream's open shards.
func loadShardMap(ctx context.Context, api shardlog.StreamAPI) (*shardMap, error) {
	m := &shardMap{}
	in := shardlog.ListShardsInput{}
	for {
		out, err := api.ListShards(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, sh := range out.Shards {
			if !sh.SequenceNumberRange.EndingSequenceNumber.IsZero() {
				continue // closed
			}
			start, err1 := hashkey.Parse(sh.HashKeyRange.StartingHashKey)
			end, err2 := hashkey.Parse(sh.HashKeyRange.EndingHashKey)
			if err1 != nil || err2 != nil {
				continue
			}
			m.spans = append(m.spans, span{id: sh.ShardID, start: start, end: end})
		}
		if out.NextToken == "" {
			break
		}
		in = shardlog.ListShardsInput{NextToken: out.NextToken}
	}
	slices.SortFunc(m.spans, func(a, b span) int { return a.start.Cmp(b.start) })
	return m, nil
}

// find returns the shard whose range holds k, or "" if none does (a map not
// loaded, or one listed mid-reshard).
func (m *shardMap) find(k hashkey.Key) string {
	if m == nil {
		return ""
	}
	i, _ := slices.BinarySearchFunc(m.spans, k, func(s span, k hashkey.Key) int {
		switch {
		case s.end.Less(k):
			return -1
		case k.Less(s.start):
			return 1
		}
		return 0
	})
	if i < len(m.spans) && m.spans[i].start.Cmp(k) <= 0 && k.Cmp(m.spans[i].end) <= 0 {
		return m.spans[i].id
	}
	return ""
}
