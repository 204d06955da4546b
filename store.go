package httpcache

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/golang/groupcache/lru"
)

// Store keeps entries under keys. The cache calls it on every lookup and
// every fill, from many goroutines at once, so an implementation must be safe
// for concurrent use.
//
// Get returns the entry stored under key, or (nil, nil) when there is none.
// Set stores e under key, replacing any entry there; e is immutable (see
// [Entry]) and a store may keep the pointer. A store may drop an entry at
// any time (to respect a memory budget, or after [Entry.Expires]); the cache
// treats a missing entry as a miss.
//
// An error from a store means the store could not answer. The cache fails
// open: the request is served by the handler, the error is reported to the
// logger (see [WithLogger]), and no error reaches the client. A store should
// honour ctx's deadline so that a slow backend cannot hold requests.
type Store interface {
	Get(ctx context.Context, key string) (*Entry, error)
	Set(ctx context.Context, key string, e *Entry) error
}

// DefaultMemoryBytes is the memory budget of the store New uses when no
// WithStore option is given.
const DefaultMemoryBytes = 64 << 20

// Sharding of a [MemoryStore]: at most maxShards shards, fewer when that keeps
// each at least minShardBytes.
const (
	maxShards     = 16 // a power of two
	minShardBytes = 1 << 20
)

// MemoryStore is a [Store] kept in process, bounded by bytes, evicting
// least-recently-used entries. It keeps the *Entry it is given and returns
// that same pointer from Get, so a hit costs no decoding and no copy.
//
// Its budget is split evenly among up to 16 shards, picked by a hash of the
// key; each shard has its own lock and its own LRU order, so eviction is
// least-recently-used within a shard. A shard's share is never less than
// 1 MiB unless maxBytes itself is smaller (the default budget gives 16
// shards of 4 MiB). An entry whose [Entry.Size] exceeds a shard's share is
// not kept.
//
// Get and Set do not look at their context: they never block on anything
// but a shard's lock, held for a map lookup and a list update. A Get
// allocates nothing; a Set allocates a small record for the entry.
//
// The zero MemoryStore is not usable: create one with [NewMemoryStore]. A
// MemoryStore is safe for concurrent use.
type MemoryStore struct {
	seed   maphash.Seed  // of the hash that picks a key's shard
	shards []memoryShard // len is a power of two
}

// memoryShard is one lock's worth of a MemoryStore.
type memoryShard struct {
	maxBytes int64

	mu    sync.Mutex // guards lru and bytes
	lru   *lru.Cache // string key → *memoryItem, most recent first
	bytes int64      // sum of the size of the items in lru
}

// memoryItem is what a shard keeps for an entry: the entry and what Set
// computed from it once, so that Get need not.
type memoryItem struct {
	entry   *Entry
	size    int64
	expires time.Time
}

// NewMemoryStore returns a store holding at most maxBytes of entries (as
// counted by [Entry.Size]). It panics ("httpcache: ...") if maxBytes <= 0.
func NewMemoryStore(maxBytes int64) *MemoryStore {
	if maxBytes <= 0 {
		panic(fmt.Sprintf("httpcache: NewMemoryStore: maxBytes %d <= 0", maxBytes))
	}
	n := shardCount(maxBytes)
	s := &MemoryStore{seed: maphash.MakeSeed(), shards: make([]memoryShard, n)}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.maxBytes = maxBytes / int64(n)
		sh.lru = lru.New(0)
		sh.lru.OnEvicted = sh.evictedLocked
	}
	return s
}

// shardCount returns the number of shards for a budget of maxBytes: a power
// of two, at most maxShards, and 1 if maxBytes is below 2*minShardBytes.
func shardCount(maxBytes int64) int {
	n := 1
	for n < maxShards && maxBytes/int64(2*n) >= minShardBytes {
		n *= 2
	}
	return n
}

// Get returns the entry stored under key, or (nil, nil) if there is none or
// it is past its [Entry.Expires] time, in which case it is removed.
func (s *MemoryStore) Get(_ context.Context, key string) (*Entry, error) {
	now := time.Now()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.getLocked(key, now), nil
}

// getHash is Get for the cache's own keys at now, without making a string
// of them (the conversion below does not escape, so it does not allocate)
// and without reading the clock again.
func (s *MemoryStore) getHash(key *keyHash, now time.Time) *Entry {
	k := string(key[:])
	sh := s.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.getLocked(k, now)
}

// Set stores e under key, replacing any entry there. If e is too large for
// a shard's budget or already past its [Entry.Expires] time, Set drops it,
// removes what key held and returns nil. Storing e may evict the shard's
// least recently used entries. e must not be nil.
func (s *MemoryStore) Set(_ context.Context, key string, e *Entry) error {
	it := &memoryItem{entry: e, size: e.Size(), expires: e.Expires()}
	keep := it.expires.After(time.Now())
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if !keep || it.size > sh.maxBytes {
		sh.lru.Remove(key)
		return nil
	}
	sh.addLocked(key, it)
	return nil
}

// Bytes reports the bytes held: the sum of the [Entry.Size] of the entries
// held, never more than the budget given to [NewMemoryStore].
func (s *MemoryStore) Bytes() int64 {
	var n int64
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.bytes
		sh.mu.Unlock()
	}
	return n
}

// Len reports the number of entries held, expired ones not yet removed
// included.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.lru.Len()
		sh.mu.Unlock()
	}
	return n
}

// shard returns the shard of key, picked by its hash/maphash hash: the
// runtime's map hash, a few nanoseconds for a 32-byte key.
func (s *MemoryStore) shard(key string) *memoryShard {
	h := maphash.String(s.seed, key)
	return &s.shards[h&uint64(len(s.shards)-1)]
}

// getLocked returns the live entry under key, removing it if it expired
// before now.
func (sh *memoryShard) getLocked(key string, now time.Time) *Entry {
	v, ok := sh.lru.Get(key)
	if !ok {
		return nil
	}
	it := v.(*memoryItem)
	if it.expires.Before(now) {
		sh.lru.Remove(key)
		return nil
	}
	return it.entry
}

// addLocked stores it under key, then evicts the least recently used items
// until the shard is within its budget. it.size must not exceed the budget.
func (sh *memoryShard) addLocked(key string, it *memoryItem) {
	// lru.Cache.Add replaces a value without calling OnEvicted.
	if old, ok := sh.lru.Get(key); ok {
		sh.bytes -= old.(*memoryItem).size
	}
	sh.lru.Add(key, it)
	sh.bytes += it.size
	for sh.bytes > sh.maxBytes {
		sh.lru.RemoveOldest()
	}
}

// evictedLocked is the shard's lru.Cache.OnEvicted: it accounts for an item
// the cache removed.
func (sh *memoryShard) evictedLocked(_ lru.Key, v any) {
	sh.bytes -= v.(*memoryItem).size
}

var _ Store = (*MemoryStore)(nil)
