package httpcache

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

// codecStore is a remote-like Store: it keeps encodings, as Redis would,
// never drops expired entries, and can fail its Set.
type codecStore struct {
	mu     sync.Mutex
	m      map[string][]byte
	setErr error
	sets   atomic.Int64
}

func newCodecStore() *codecStore { return &codecStore{m: map[string][]byte{}} }

func (s *codecStore) Get(_ context.Context, key string) (*Entry, error) {
	s.mu.Lock()
	b, ok := s.m[key]
	s.mu.Unlock()
	if !ok {
		return nil, nil
	}
	e := new(Entry)
	if err := e.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return e, nil
}

func (s *codecStore) Set(_ context.Context, key string, e *Entry) error {
	s.sets.Add(1)
	if s.setErr != nil {
		return s.setErr
	}
	b, err := e.MarshalBinary()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.m[key] = b
	s.mu.Unlock()
	return nil
}

// A failing Store.Set (Redis down) makes every concurrent miss run the
// handler, one after the other: the leader's complete, current response is
// not shared with its waiters, who retry the flight in turn.
func TestRegression6StoreSetErrorSharesWithWaiters(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := newCodecStore()
		s.setErr = errors.New("redis: connection refused")
		c := New(WithStore(s), WithLogger(discardLogger()))
		defer c.Close()
		var calls atomic.Int64
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			time.Sleep(time.Second) // the handler is slow: requests pile up
			w.Header().Set("Cache-Control", "max-age=60")
			w.Write([]byte("page"))
		}))
		const n = 8
		var wg sync.WaitGroup
		codes := make([]string, n)
		for i := range n {
			wg.Go(func() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", "/p", nil))
				codes[i] = w.Body.String()
			})
		}
		wg.Wait()
		for i := range n {
			assert.Equal(t, "page", codes[i])
		}
		assert.EqualValues(t, 1, calls.Load(), "one handler call for concurrent misses, store or no store")
	})
}
