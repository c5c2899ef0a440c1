package shardlog

import (
	"strings"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
	"github.com/shardlog/shardlog/internal/hashkey"
)

// keyCache remembers the hash keys of recently seen partition keys, because
// MD5 is the largest cost of a Put and real producers reuse their keys. A
// key takes an empty slot at once, and evicts another only on its second
// sighting (a doorkeeper remembers the first), so a stream of unique keys
// allocates almost never. Lookups are lock-free.
type keyCache struct {
	slots [keyCacheSize]atomic.Pointer[cachedKey]
	seen  [keyCacheSize]atomic.Uint64 // doorkeeper: fingerprint of the last miss
}

const keyCacheSize = 4096 // 64 KiB, allocated on a stream's first put

type cachedKey struct {
	key  string
	hash hashkey.Key
}

// lookup returns the hash of key, computing it with hash on a miss.
func (c *keyCache) lookup(key string, hash func(string) hashkey.Key) hashkey.Key {
	fp := xxhash.Sum64String(key)
	i := fp & (keyCacheSize - 1)
	// Two-way: a key may sit in slot i or its neighbour i^1.
	a, b := c.slots[i].Load(), c.slots[i^1].Load()
	if a != nil && a.key == key {
		return a.hash
	}
	if b != nil && b.key == key {
		return b.hash
	}
	h := hash(key)
	// A cached key outlives the call, so it is a copy: key may be a view of
	// a request body that must not stay alive for it.
	switch {
	case a == nil:
		c.slots[i].Store(&cachedKey{key: strings.Clone(key), hash: h})
	case b == nil:
		c.slots[i^1].Store(&cachedKey{key: strings.Clone(key), hash: h})
	case c.seen[i].Swap(fp) == fp:
		c.slots[i].Store(&cachedKey{key: strings.Clone(key), hash: h})
	}
	return h
}
