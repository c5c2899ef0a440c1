package shardlog

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// unlisted is a StreamAPI whose ListShards fails with err, or lists no
// shards.
type unlisted struct {
	StreamAPI
	err error
}

func (u unlisted) ListShards(context.Context, ListShardsInput) (ListShardsOutput, error) {
	return ListShardsOutput{}, u.err
}

// TestAPIReaderTellsGoneFromUnknown: a shard consumer of a group on a
// StreamAPI takes a shard it cannot find listed for gone only when
// ListShards says so; a failed ListShards is no answer (else the shard
// would be checkpointed at its end, unread).
func TestAPIReaderTellsGoneFromUnknown(t *testing.T) {
	w := &worker{ctx: bg}
	h := &heldLease{key: shardID(3)}
	failing := &apiSource{stream: unlisted{err: errors.New("throttled")}, gone: make(chan struct{})}
	r, err := failing.reader(w, h, Lease{Key: h.key}, &Checkpointer{})
	require.Error(t, err)
	require.Nil(t, r)

	empty := &apiSource{stream: unlisted{}, gone: make(chan struct{})}
	r, err = empty.reader(w, h, Lease{Key: h.key}, &Checkpointer{})
	require.NoError(t, err)
	require.Nil(t, r, "gone")
}
