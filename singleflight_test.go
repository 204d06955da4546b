package httpcache

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gate is a handler that counts its calls and blocks each one until the
// test opens it.
type gate struct {
	calls   atomic.Int64
	open    chan struct{}
	entered chan struct{} // receives once per call, if not nil
	respond func(w http.ResponseWriter, r *http.Request, call int64)
}

func newGate(respond func(w http.ResponseWriter, r *http.Request, call int64)) *gate {
	return &gate{open: make(chan struct{}), respond: respond}
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := g.calls.Add(1)
	if g.entered != nil {
		g.entered <- struct{}{}
	}
	<-g.open
	g.respond(w, r, n)
}

func cacheable(body string) func(http.ResponseWriter, *http.Request, int64) {
	return func(w http.ResponseWriter, r *http.Request, _ int64) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, body)
	}
}

// serveAll serves n concurrent GETs of target through h and returns their
// responses once all are done. Each request may be adjusted by prep.
func serveAll(h http.Handler, n int, target string, prep func(i int, r *http.Request)) []*httptest.ResponseRecorder {
	out := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	for i := range n {
		r := httptest.NewRequest("GET", target, nil)
		if prep != nil {
			prep(i, r)
		}
		out[i] = httptest.NewRecorder()
		wg.Go(func() { h.ServeHTTP(out[i], r) })
	}
	wg.Wait()
	return out
}

func TestFillCollapsesStampede(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g := newGate(cacheable("one"))
		c := New()
		defer c.Close()
		h := c.Handler(g)
		var res []*httptest.ResponseRecorder
		done := make(chan struct{})
		go func() { res = serveAll(h, 1000, "/hot", nil); close(done) }()
		synctest.Wait() // every request is in the handler or waiting for it
		close(g.open)
		<-done
		assert.EqualValues(t, 1, g.calls.Load(), "handler calls")
		statuses := map[string]int{}
		for _, w := range res {
			assert.Equal(t, "one", w.Body.String())
			statuses[w.Header().Get("Cache-Status")]++
		}
		assert.Equal(t, map[string]int{statusStored: 1, statusCollapse: 999}, statuses)
	})
}

func TestFillWaitersMatchVary(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g := newGate(func(w http.ResponseWriter, r *http.Request, _ int64) {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Vary", "Accept-Language")
			io.WriteString(w, r.Header.Get("Accept-Language"))
		})
		c := New()
		defer c.Close()
		h := c.Handler(g)
		langs := []string{"en", "fr"}
		var res []*httptest.ResponseRecorder
		done := make(chan struct{})
		go func() {
			res = serveAll(h, 20, "/page", func(i int, r *http.Request) { r.Header.Set("Accept-Language", langs[i%2]) })
			close(done)
		}()
		synctest.Wait()
		close(g.open)
		<-done
		for i, w := range res {
			assert.Equal(t, langs[i%2], w.Body.String(), "request %d", i)
		}
		assert.LessOrEqual(t, g.calls.Load(), int64(3), "one fill per language, give or take the first waiter's rekey")
		assert.Equal(t, "fr", do(t, h, "GET", "/page", "Accept-Language", "fr").Body.String())
	})
}

func TestFillLeaderHangUpDoesNotFailWaiters(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g := newGate(cacheable("done"))
		g.entered = make(chan struct{}, 10)
		c := New()
		defer c.Close()
		h := c.Handler(g)

		ctx, hangUp := context.WithCancel(context.Background())
		leader := httptest.NewRecorder()
		leaderDone := make(chan struct{})
		go func() {
			h.ServeHTTP(leader, httptest.NewRequest("GET", "/x", nil).WithContext(ctx))
			close(leaderDone)
		}()
		<-g.entered
		var res []*httptest.ResponseRecorder
		done := make(chan struct{})
		go func() { res = serveAll(h, 5, "/x", nil); close(done) }()
		synctest.Wait()
		hangUp()
		close(g.open)
		<-leaderDone
		<-done
		for _, w := range res {
			checkResponse(t, w, 200, "done", statusCollapse)
		}
		assert.EqualValues(t, 1, g.calls.Load())
	})
}

// TestFillLeaderFailureRetries: a leader whose handler gives up when its
// client leaves (a 5xx) lets one waiter fill again.
func TestFillLeaderFailureRetries(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g := newGate(func(w http.ResponseWriter, r *http.Request, call int64) {
			if call == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			cacheable("second")(w, r, call)
		})
		c := New()
		defer c.Close()
		h := c.Handler(g)
		var res []*httptest.ResponseRecorder
		done := make(chan struct{})
		go func() { res = serveAll(h, 10, "/y", nil); close(done) }()
		synctest.Wait()
		close(g.open)
		<-done
		bodies := map[string]int{}
		for _, w := range res {
			bodies[w.Body.String()]++
		}
		assert.Equal(t, map[string]int{"": 1, "second": 9}, bodies)
		assert.EqualValues(t, 2, g.calls.Load())
	})
}

// TestFillPanicUnderCoalescing: a panic is never stored, never wedges the
// key (golang/groupcache#139), and surfaces on the request that ran it.
func TestFillPanicUnderCoalescing(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g := newGate(func(w http.ResponseWriter, r *http.Request, call int64) {
			if call == 1 {
				panic("boom")
			}
			cacheable("ok")(w, r, call)
		})
		c := New()
		defer c.Close()
		h := c.Handler(g)
		var panics atomic.Int64
		guarded := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					assert.Equal(t, "boom", v)
					panics.Add(1)
				}
			}()
			h.ServeHTTP(w, r)
		})
		var res []*httptest.ResponseRecorder
		done := make(chan struct{})
		go func() { res = serveAll(guarded, 8, "/p", nil); close(done) }()
		synctest.Wait()
		close(g.open)
		<-done
		assert.EqualValues(t, 1, panics.Load())
		ok := 0
		for _, w := range res {
			if w.Body.String() == "ok" {
				ok++
			}
		}
		assert.Equal(t, 7, ok)
		assert.EqualValues(t, 2, g.calls.Load())
		checkResponse(t, do(t, h, "GET", "/p"), 200, "ok", "httpcache; hit; ttl=60")
	})
}

// TestFillFlushingLeaderReleasesWaiters: a stream releases its waiters at
// once; they run the handler themselves.
func TestFillFlushingLeaderReleasesWaiters(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		finish := make(chan struct{})
		var calls atomic.Int64
		h := New()
		defer h.Close()
		handler := h.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				w.Header().Set("Cache-Control", "max-age=60")
				io.WriteString(w, "part;")
				w.(http.Flusher).Flush()
				<-finish
			}
			io.WriteString(w, "end")
		}))
		leaderDone := make(chan struct{})
		go func() { do(t, handler, "GET", "/s"); close(leaderDone) }()
		synctest.Wait()
		res := serveAll(handler, 4, "/s", nil) // released by the flush: they do not block
		for _, w := range res {
			assert.Equal(t, "end", w.Body.String())
		}
		assert.EqualValues(t, 5, calls.Load())
		close(finish)
		<-leaderDone
	})
}

func TestFillLockTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g := newGate(cacheable("slow"))
		c := New(WithLockTimeout(2 * time.Second))
		defer c.Close()
		h := c.Handler(g)
		leaderDone := make(chan struct{})
		go func() { do(t, h, "GET", "/slow"); close(leaderDone) }()
		synctest.Wait()
		waiter := make(chan *httptest.ResponseRecorder)
		go func() { waiter <- do(t, h, "GET", "/slow") }()
		synctest.Wait()
		time.Sleep(2 * time.Second) // fake time: the waiter's lock timeout fires
		synctest.Wait()
		assert.EqualValues(t, 2, g.calls.Load(), "the waiter ran the handler itself")
		close(g.open)
		assert.Equal(t, "slow", (<-waiter).Body.String())
		<-leaderDone
	})
}

// TestFillHitForMiss: after a response that cannot be shared, requests for
// the key run the handler at once instead of queueing.
func TestFillHitForMiss(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		o := newOrigin("private", "Cache-Control", "max-age=60", "Set-Cookie", "id=1")
		c := New(WithHitForMiss(10 * time.Second))
		defer c.Close()
		h := c.Handler(o)
		checkResponse(t, do(t, h, "GET", "/me"), 200, "private", statusMiss)
		require.True(t, c.core.hfm.has(variantKeyOf(t, c, "/me"), time.Now()))
		time.Sleep(11 * time.Second)
		assert.False(t, c.core.hfm.has(variantKeyOf(t, c, "/me"), time.Now()))
	})
}

// variantKeyOf returns the key a plain GET of target looks up.
func variantKeyOf(t testing.TB, c *Cache, target string) string {
	t.Helper()
	r := httptest.NewRequest("GET", target, nil)
	p, ok := c.primaryKey(r)
	require.True(t, ok)
	k := variantKey(p, c.core.vary.get(p, c.cfg.vary), r.Header)
	return string(k[:])
}
