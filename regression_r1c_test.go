package httpcache

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

type panicStore struct {
	*MemoryStore
	n int
}

func (s *panicStore) Set(ctx context.Context, k string, e *Entry) error {
	s.n++
	if s.n == 1 {
		panic("store bug")
	}
	return s.MemoryStore.Set(ctx, k, e)
}

// R17: a panic after the handler returned (store, versions, serveEntry)
// leaves the flight in the group: the key waits the lock timeout forever after.
func TestRegressionPanicInFillDoneWedgesKey(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New(WithStore(&panicStore{MemoryStore: NewMemoryStore(1 << 20)}), WithLogger(discardLogger()))
		defer c.Close()
		h := c.Handler(newOrigin("x", "Cache-Control", "max-age=60"))
		func() {
			defer func() { recover() }()
			do(t, h, "GET", "/w")
		}()
		start := time.Now()
		do(t, h, "GET", "/w")
		if d := time.Since(start); d > time.Second {
			t.Errorf("next request waited %v for a dead flight", d)
		}
	})
}
