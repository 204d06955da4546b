package httpcache

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// versioned is a handler whose body is its call count, with the given
// Cache-Control; fail makes the next calls answer status instead.
type versioned struct {
	calls atomic.Int64
	cc    string
	etag  bool
	fail  atomic.Int64  // a status to answer with, or 0
	seen  atomic.Value  // the last If-None-Match it saw
	hold  chan struct{} // if not nil, the second call waits for it to close
}

func (v *versioned) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := v.calls.Add(1)
	if n == 2 && v.hold != nil {
		<-v.hold
	}
	v.seen.Store(r.Header.Get("If-None-Match"))
	if s := v.fail.Load(); s == -1 {
		panic("refresh exploded")
	} else if s != 0 {
		w.WriteHeader(int(s))
		return
	}
	w.Header().Set("Cache-Control", v.cc)
	if v.etag {
		w.Header().Set("ETag", `"same"`)
		if r.Header.Get("If-None-Match") == `"same"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	fmt.Fprintf(w, "v%d", n)
}

func TestStaleWhileRevalidate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		v := &versioned{cc: "max-age=10, stale-while-revalidate=30", hold: make(chan struct{})}
		c := New()
		defer c.Close()
		h := c.Handler(v)
		checkResponse(t, do(t, h, "GET", "/"), 200, "v1", statusStored)
		time.Sleep(15 * time.Second)
		checkResponse(t, do(t, h, "GET", "/"), 200, "v1", "httpcache; hit; ttl=-5")
		checkResponse(t, do(t, h, "GET", "/"), 200, "v1", "httpcache; hit; ttl=-5") // the refresh is held
		close(v.hold)
		c.Wait()
		assert.EqualValues(t, 2, v.calls.Load(), "exactly one background refresh")
		checkResponse(t, do(t, h, "GET", "/"), 200, "v2", "httpcache; hit; ttl=10")

		time.Sleep(50 * time.Second) // past the window: the request waits for the refill
		checkResponse(t, do(t, h, "GET", "/"), 200, "v3", statusStored)
	})
}

func TestStaleWhileRevalidatePolicy(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		v := &versioned{cc: "max-age=10"}
		c := New(WithStaleWhileRevalidate(time.Minute))
		defer c.Close()
		h := c.Handler(v)
		do(t, h, "GET", "/")
		time.Sleep(20 * time.Second)
		checkResponse(t, do(t, h, "GET", "/"), 200, "v1", "httpcache; hit; ttl=-10")
		c.Wait()
		checkResponse(t, do(t, h, "GET", "/"), 200, "v2", "httpcache; hit; ttl=10")
	})
}

func TestStaleForbidden(t *testing.T) {
	t.Parallel()
	for _, cc := range []string{
		"max-age=10, stale-while-revalidate=30, must-revalidate",
		"max-age=10, stale-while-revalidate=30, proxy-revalidate",
		"s-maxage=10, stale-while-revalidate=30",
	} {
		t.Run(cc, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := &versioned{cc: cc}
				c := New()
				defer c.Close()
				h := c.Handler(v)
				do(t, h, "GET", "/")
				time.Sleep(15 * time.Second)
				checkResponse(t, do(t, h, "GET", "/"), 200, "v2", statusStored)
			})
		})
	}
}

// TestRefreshConditional: a refresh sends the stored ETag, and a 304 renews
// the entry without a body.
func TestRefreshConditional(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		v := &versioned{cc: "max-age=10, stale-while-revalidate=30", etag: true}
		c := New()
		defer c.Close()
		h := c.Handler(v)
		do(t, h, "GET", "/")
		time.Sleep(15 * time.Second)
		checkResponse(t, do(t, h, "GET", "/"), 200, "v1", "httpcache; hit; ttl=-5")
		c.Wait()
		assert.Equal(t, `"same"`, v.seen.Load())
		w := do(t, h, "GET", "/")
		checkResponse(t, w, 200, "v1", "httpcache; hit; ttl=10")
		assert.Equal(t, "0", w.Header().Get("Age"))
	})
}

// TestRevalidateNoCache: a no-cache entry is revalidated on every use; the
// handler's 304 becomes the stored 200.
func TestRevalidateNoCache(t *testing.T) {
	t.Parallel()
	v := &versioned{cc: "no-cache", etag: true}
	c := New()
	defer c.Close()
	h := c.Handler(v)
	checkResponse(t, do(t, h, "GET", "/"), 200, "v1", statusStored)
	checkResponse(t, do(t, h, "GET", "/"), 200, "v1", "httpcache; fwd=stale; stored; fwd-status=304")
	assert.Equal(t, `"same"`, v.seen.Load())
	assert.EqualValues(t, 2, v.calls.Load())
	w := do(t, h, "GET", "/", "If-None-Match", `"same"`)
	assert.Equal(t, http.StatusNotModified, w.Code)
}

func TestRefreshFailureKeepsEntry(t *testing.T) {
	t.Parallel()
	for _, fail := range []int64{500, 503, -1} {
		t.Run(fmt.Sprint(fail), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var logs bytes.Buffer
				v := &versioned{cc: "max-age=10, stale-while-revalidate=30"}
				c := New(WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
				defer c.Close()
				h := c.Handler(v)
				do(t, h, "GET", "/")
				v.fail.Store(fail)
				time.Sleep(15 * time.Second)
				checkResponse(t, do(t, h, "GET", "/"), 200, "v1", "httpcache; hit; ttl=-5")
				c.Wait()
				checkResponse(t, do(t, h, "GET", "/"), 200, "v1", "httpcache; hit; ttl=-5")
				c.Wait()
				if fail == -1 {
					assert.Contains(t, logs.String(), "refresh exploded")
				}
			})
		})
	}
}

func TestStaleIfError(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		v := &versioned{cc: "max-age=10, stale-if-error=60"}
		c := New(WithLogger(discardLogger()))
		defer c.Close()
		h := c.Handler(v)
		do(t, h, "GET", "/")
		time.Sleep(20 * time.Second)
		v.fail.Store(502)
		checkResponse(t, do(t, h, "GET", "/"), 200, "v1", "httpcache; hit; ttl=-10; detail=status-502")
		v.fail.Store(-1)
		checkResponse(t, do(t, h, "GET", "/"), 200, "v1", "httpcache; hit; ttl=-10; detail=panic")
		time.Sleep(60 * time.Second)
		v.fail.Store(502)
		checkResponse(t, do(t, h, "GET", "/"), 502, "", statusMiss)
	})
}

func TestStaleIfErrorPolicy(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		v := &versioned{cc: "max-age=10"}
		c := New(WithStaleIfError(time.Minute))
		defer c.Close()
		h := c.Handler(v)
		do(t, h, "GET", "/")
		time.Sleep(20 * time.Second)
		v.fail.Store(500)
		checkResponse(t, do(t, h, "GET", "/"), 200, "v1", "httpcache; hit; ttl=-10; detail=status-500")
	})
}

// TestCloseDuringRefresh: Close waits for a running refresh, and the cache
// passes requests straight through afterwards.
func TestCloseDuringRefresh(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var calls atomic.Int64
		c := New()
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 2 {
				<-release
			}
			w.Header().Set("Cache-Control", "max-age=10, stale-while-revalidate=30")
			io.WriteString(w, "x")
		}))
		do(t, h, "GET", "/")
		time.Sleep(15 * time.Second)
		do(t, h, "GET", "/")
		synctest.Wait() // the refresh is blocked in the handler
		closed := make(chan struct{})
		go func() { require.NoError(t, c.Close()); close(closed) }()
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("Close returned while a refresh was running")
		default:
		}
		close(release)
		<-closed
		w := do(t, h, "GET", "/")
		checkResponse(t, w, 200, "x", "")
		assert.EqualValues(t, 3, calls.Load())
	})
}

// TestRefreshDetached: the refresh outlives the request that started it.
func TestRefreshDetached(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		var calls atomic.Int64
		c := New()
		defer c.Close()
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 2 {
				<-gate // the refresh waits until its trigger's client has left
				if err := r.Context().Err(); err != nil {
					w.WriteHeader(http.StatusServiceUnavailable) // a cancelled refresh
					return
				}
			}
			w.Header().Set("Cache-Control", "max-age=10, stale-while-revalidate=30")
			fmt.Fprintf(w, "v%d", calls.Load())
		}))
		do(t, h, "GET", "/")
		time.Sleep(15 * time.Second)
		r := httptest.NewRequest("GET", "/", nil)
		ctx, cancel := contextWithCancel(r)
		h.ServeHTTP(httptest.NewRecorder(), r.WithContext(ctx))
		synctest.Wait() // the refresh is in the handler
		cancel()
		close(gate)
		c.Wait()
		checkResponse(t, do(t, h, "GET", "/"), 200, "v2", "httpcache; hit; ttl=10")
	})
}

func TestRefreshBounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var calls atomic.Int64
		c := New(WithMaxRefreshes(1))
		defer c.Close()
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) > 2 {
				<-release
			}
			w.Header().Set("Cache-Control", "max-age=10, stale-while-revalidate=30")
			io.WriteString(w, r.URL.Path)
		}))
		do(t, h, "GET", "/a")
		do(t, h, "GET", "/b")
		time.Sleep(15 * time.Second)
		checkResponse(t, do(t, h, "GET", "/a"), 200, "/a", "httpcache; hit; ttl=-5")
		checkResponse(t, do(t, h, "GET", "/b"), 200, "/b", "httpcache; hit; ttl=-5")
		synctest.Wait()
		assert.EqualValues(t, 3, calls.Load(), "the second refresh was not started")
		close(release)
		c.Wait()
	})
}
