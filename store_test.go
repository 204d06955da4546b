package httpcache

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// liveEntry returns an entry fresh for an hour, with a body of n bytes and
// tag as its only tag.
func liveEntry(tag string, n int) *Entry {
	return &Entry{
		Status:       http.StatusOK,
		Body:         make([]byte, n),
		ResponseTime: time.Now(),
		Lifetime:     time.Hour,
		Tags:         []string{tag},
	}
}

// hashKey returns a key shaped like the cache's: a 32-byte hash.
func hashKey(i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "key %d", i))
	return string(sum[:])
}

func TestNewMemoryStorePanics(t *testing.T) {
	t.Parallel()
	assert.PanicsWithValue(t, "httpcache: NewMemoryStore: maxBytes 0 <= 0", func() { NewMemoryStore(0) })
	assert.PanicsWithValue(t, "httpcache: NewMemoryStore: maxBytes -1 <= 0", func() { NewMemoryStore(-1) })
}

func TestMemoryStoreShards(t *testing.T) {
	t.Parallel()
	tests := []struct {
		maxBytes int64
		shards   int
	}{
		{1, 1}, {2<<20 - 1, 1}, {2 << 20, 2}, {5 << 20, 4}, {16 << 20, 16},
		{DefaultMemoryBytes, 16}, {DefaultMemoryBytes + 15, 16}, {1 << 50, 16},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.maxBytes), func(t *testing.T) {
			t.Parallel()
			s := NewMemoryStore(tc.maxBytes)
			require.Len(t, s.shards, tc.shards)
			var sum int64
			for i := range s.shards {
				sum += s.shards[i].maxBytes
			}
			assert.LessOrEqual(t, sum, tc.maxBytes)
			assert.Greater(t, sum, tc.maxBytes-int64(tc.shards), "budget lost to rounding")
		})
	}
}

func TestMemoryStoreGetSet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, key := range []string{hashKey(1), "", "a", "\x00\xff", string(make([]byte, 1000))} {
		t.Run(fmt.Sprintf("%q", key), func(t *testing.T) {
			t.Parallel()
			s := NewMemoryStore(DefaultMemoryBytes)
			got, err := s.Get(ctx, key)
			require.NoError(t, err)
			assert.Nil(t, got, "miss")

			e := liveEntry("a", 100)
			require.NoError(t, s.Set(ctx, key, e))
			got, err = s.Get(ctx, key)
			require.NoError(t, err)
			assert.Same(t, e, got)
			assert.Equal(t, 1, s.Len())
			assert.Equal(t, e.Size(), s.Bytes())

			other, err := s.Get(ctx, key+"x")
			require.NoError(t, err)
			assert.Nil(t, other)
		})
	}
}

func TestMemoryStoreReplace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemoryStore(DefaultMemoryBytes)
	small, large := liveEntry("a", 10), liveEntry("a", 5000)
	require.NoError(t, s.Set(ctx, "k", large))
	require.NoError(t, s.Set(ctx, "k", small))
	got, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Same(t, small, got)
	assert.Equal(t, 1, s.Len())
	assert.Equal(t, small.Size(), s.Bytes())
}

func TestMemoryStoreLRU(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := map[string]*Entry{"a": liveEntry("a", 1000), "b": liveEntry("b", 1000), "c": liveEntry("c", 1000), "d": liveEntry("d", 1000)}
	s := NewMemoryStore(3*e["a"].Size() + 100) // one shard holding three entries
	require.Len(t, s.shards, 1)
	for _, k := range []string{"a", "b", "c"} {
		require.NoError(t, s.Set(ctx, k, e[k]))
	}
	got, err := s.Get(ctx, "a") // a is now the most recently used; b the least
	require.NoError(t, err)
	require.Same(t, e["a"], got)

	require.NoError(t, s.Set(ctx, "d", e["d"]))
	for k, want := range map[string]*Entry{"a": e["a"], "b": nil, "c": e["c"], "d": e["d"]} {
		got, err := s.Get(ctx, k)
		require.NoError(t, err)
		assert.Same(t, want, got, k)
	}
	assert.Equal(t, 3, s.Len())
	assert.Equal(t, 3*e["a"].Size(), s.Bytes())
}

func TestMemoryStoreOversized(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemoryStore(1 << 20)
	fits, tooBig := liveEntry("a", 1000), liveEntry("a", 1<<20)
	require.NoError(t, s.Set(ctx, "k", fits))
	require.NoError(t, s.Set(ctx, "other", fits))

	assert.NoError(t, s.Set(ctx, "k", tooBig))
	got, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Nil(t, got, "an oversized entry is dropped and removes what the key held")
	assert.Equal(t, 1, s.Len())
	assert.Equal(t, fits.Size(), s.Bytes())
}

func TestMemoryStoreExpired(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := NewMemoryStore(DefaultMemoryBytes)
		e := liveEntry("a", 10)
		e.Lifetime, e.StaleWhileRevalidate = time.Minute, time.Minute
		require.NoError(t, s.Set(ctx, "k", e))

		time.Sleep(2 * time.Minute) // synctest's fake clock: returns at once
		got, err := s.Get(ctx, "k")
		require.NoError(t, err)
		assert.Same(t, e, got, "served up to Expires")

		time.Sleep(time.Nanosecond)
		got, err = s.Get(ctx, "k")
		require.NoError(t, err)
		assert.Nil(t, got, "a miss once past Expires")
		assert.Zero(t, s.Len(), "and removed")
		assert.Zero(t, s.Bytes())

		require.NoError(t, s.Set(ctx, "k", liveEntry("a", 10)))
		require.NoError(t, s.Set(ctx, "k", e))
		assert.Zero(t, s.Len(), "an expired entry is not stored and removes what the key held")
		assert.Zero(t, s.Bytes())
	})
}

func TestMemoryStoreBudget(t *testing.T) {
	t.Parallel()
	for _, maxBytes := range []int64{1<<20 + 7, 5 << 20, DefaultMemoryBytes} {
		t.Run(fmt.Sprint(maxBytes), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := NewMemoryStore(maxBytes)
			shardBytes := s.shards[0].maxBytes
			rng := rand.New(rand.NewPCG(1, uint64(maxBytes)))
			body := make([]byte, shardBytes*5/4)
			for i := range 3000 {
				key := hashKey(rng.IntN(2000)) // some keys are replaced
				e := liveEntry(key, 0)
				e.Body = body[:rng.Int64N(int64(len(body)))]
				require.NoError(t, s.Set(ctx, key, e))
				require.LessOrEqual(t, s.Bytes(), maxBytes, "after Set %d", i)
			}
			assertAccounting(t, s, 2000)
		})
	}
}

// assertAccounting checks that s's Bytes and Len agree with the entries it
// returns for hashKey(0) to hashKey(keys-1), each tagged with its key.
func assertAccounting(t *testing.T, s *MemoryStore, keys int) {
	t.Helper()
	var n int
	var bytes int64
	for i := range keys {
		e, err := s.Get(context.Background(), hashKey(i))
		require.NoError(t, err)
		if e != nil {
			assert.Equal(t, hashKey(i), e.Tags[0], "entry stored under another key")
			n++
			bytes += e.Size()
		}
	}
	assert.Positive(t, n)
	assert.Equal(t, n, s.Len())
	assert.Equal(t, bytes, s.Bytes())
}

func TestMemoryStoreRace(t *testing.T) {
	t.Parallel()
	const keys, goroutines, ops = 64, 8, 2000
	s := NewMemoryStore(2 << 20) // two shards of ~10 entries: constant eviction
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(uint64(g), 0))
			for range ops {
				key := hashKey(rng.IntN(keys))
				if rng.IntN(4) == 0 {
					assert.NoError(t, s.Set(ctx, key, liveEntry(key, rng.IntN(100<<10))))
					continue
				}
				e, err := s.Get(ctx, key)
				assert.NoError(t, err)
				if e != nil {
					assert.Equal(t, key, e.Tags[0])
				}
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, s.Bytes(), int64(2<<20))
	assertAccounting(t, s, keys)
}

func BenchmarkMemoryStoreGet(b *testing.B) {
	ctx := context.Background()
	s := NewMemoryStore(DefaultMemoryBytes)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = hashKey(i)
		require.NoError(b, s.Set(ctx, keys[i], liveEntry(keys[i], 1024)))
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if e, _ := s.Get(ctx, keys[i%len(keys)]); e == nil {
				b.Fatal("miss")
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			misses, i := 0, 0
			for pb.Next() {
				if e, _ := s.Get(ctx, keys[i%len(keys)]); e == nil {
					misses++
				}
				i++
			}
			if misses > 0 {
				b.Errorf("%d misses", misses)
			}
		})
	})
}

func BenchmarkMemoryStoreSet(b *testing.B) {
	ctx := context.Background()
	s := NewMemoryStore(DefaultMemoryBytes)
	entries := make([]*Entry, 1024)
	keys := make([]string, len(entries))
	for i := range entries {
		keys[i] = hashKey(i)
		entries[i] = liveEntry(keys[i], 1024)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := s.Set(ctx, keys[i%len(keys)], entries[i%len(entries)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
