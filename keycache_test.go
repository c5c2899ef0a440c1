package shardlog

import (
	"fmt"
	"testing"

	"github.com/shardlog/shardlog/internal/hashkey"
	"github.com/stretchr/testify/require"
)

func TestKeyCacheReturnsTheHash(t *testing.T) {
	var c keyCache
	calls := 0
	md5 := func(k string) hashkey.Key { calls++; return hashkey.FromMD5(k) }
	for round := 0; round < 3; round++ {
		for i := 0; i < 2000; i++ {
			k := fmt.Sprint("key-", i)
			require.Equal(t, hashkey.FromMD5(k), c.lookup(k, md5))
		}
	}
	require.Less(t, calls, 2000+600, "a reused working set mostly hits: %d hashes for 6000 lookups", calls)
}

func TestKeyCacheUniqueKeysRarelyAllocate(t *testing.T) {
	var c keyCache
	for i := 0; i < 2*keyCacheSize; i++ { // fill every slot
		c.lookup(fmt.Sprint("warm-", i), hashkey.FromMD5)
	}
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprint("unique-", i)
	}
	i := 0
	allocs := testing.AllocsPerRun(len(keys)-1, func() {
		c.lookup(keys[i], hashkey.FromMD5)
		i++
	})
	require.Less(t, allocs, 0.05)
}
