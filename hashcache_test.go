package shardlog

import (
	"fmt"
	"runtime"
	"testing"
	"unsafe"

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

// TestKeyCacheDoesNotPinCallersMemory: a cached key is a copy, so a key
// that is a view of a large buffer (a request body) lets the buffer go.
func TestKeyCacheDoesNotPinCallersMemory(t *testing.T) {
	var c keyCache
	collected := make(chan struct{}, 64)
	for i := 0; i < 64; i++ {
		body := make([]byte, 1<<20)
		copy(body, fmt.Sprint("key-", i))
		runtime.SetFinalizer(&body[0], func(*byte) { collected <- struct{}{} })
		key := unsafe.String(&body[0], 6) // a view, as the PutRecords decoder makes
		c.lookup(key, hashkey.FromMD5)
	}
	got := 0
	for rounds := 0; got < 64; rounds++ {
		if rounds == 1000 {
			t.Fatalf("%d of 64 bodies were collected: the cache pins the rest", got)
		}
		runtime.GC() // finalizers run on their own goroutine: collect until all have run
	drain:
		for {
			select {
			case <-collected:
				got++
			default:
				break drain
			}
		}
		runtime.Gosched()
	}
	runtime.KeepAlive(&c) // the cache lives on, as a stream's does
}
