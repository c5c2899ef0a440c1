package streamtest_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/streamtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestEmbedded runs the suite on shardlog's own streams.
func TestEmbedded(t *testing.T) {
	var n atomic.Int64
	streamtest.Run(t, func(t *testing.T, shards int) shardlog.StreamAPI {
		acct, err := shardlog.NewAccount(shardlog.WithoutLimits())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { acct.Close() })
		s, err := acct.CreateStream(t.Context(), shardlog.CreateStreamInput{StreamName: fmt.Sprint("s", n.Add(1)), ShardCount: shards})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
