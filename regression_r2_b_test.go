package httpcache

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// E: a 304 revalidation re-adds the stale entry's reserved tags (all, URL)
// after the handler's, which eats two of the 64 slots: an entry with 63 or
// 64 tags loses its last ones and Invalidate of them no longer reaches it.
func TestRegression2RevalidationDropsTagsAtLimit(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New(WithLogger(discardLogger()))
		defer c.Close()
		tags := make([]string, maxTags)
		for i := range tags {
			tags[i] = fmt.Sprint("t", i)
		}
		var body atomic.Value
		body.Store("old")
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b := body.Load().(string)
			etag := `"` + b + `"`
			w.Header().Set("Cache-Control", "max-age=1")
			w.Header().Set("Etag", etag)
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("Cache-Tag", strings.Join(tags, ","))
			io.WriteString(w, b)
		}))
		do(t, h, "GET", "/list")
		time.Sleep(2 * time.Second)
		require.Contains(t, do(t, h, "GET", "/list").Header().Get("Cache-Status"), "fwd-status=304")
		body.Store("new")
		require.NoError(t, c.Invalidate(context.Background(), "t63"))
		w := do(t, h, "GET", "/list")
		assert.Equal(t, "new", w.Body.String(), w.Header().Get("Cache-Status"))
	})
}

// F: a request whose key is known not to be shareable (hit-for-miss) still
// runs detached: its handler is not cancelled when its client leaves, but
// only after WithRefreshTimeout (30s by default).
func TestRegression2HitForMissFillNotCancelled(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New(WithLogger(discardLogger()))
		defer c.Close()
		var cancelledAfter atomic.Int64
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("slow") == "" {
				w.Header().Set("Set-Cookie", "s=1")
				w.Header().Set("Cache-Control", "max-age=60")
				io.WriteString(w, "x")
				return
			}
			start := time.Now()
			select {
			case <-r.Context().Done():
			case <-time.After(time.Minute):
			}
			cancelledAfter.Store(int64(time.Since(start)))
			w.Header().Set("Set-Cookie", "s=1")
			io.WriteString(w, "x")
		}))
		// /p?slow= and /p?slow=1 are different keys; make the slow one
		// hit-for-miss first.
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(time.Second); cancel() }()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/p?slow=1", nil).WithContext(ctx))
		first := time.Duration(cancelledAfter.Load())
		ctx, cancel = context.WithCancel(context.Background())
		go func() { time.Sleep(time.Second); cancel() }()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/p?slow=1", nil).WithContext(ctx))
		second := time.Duration(cancelledAfter.Load())
		t.Logf("first (unknown key) cancelled after %v, second (hit-for-miss) after %v", first, second)
		assert.LessOrEqual(t, second, 2*time.Second, "client left at 1s")
	})
}

// G: passWriter.Hijack marks the header written even when hijacking fails
// (HTTP/2, or a writer without it): a handler that falls back to a normal
// response skips the invalidation of its unsafe request.
func TestRegression2FailedHijackSkipsInvalidation(t *testing.T) {
	t.Parallel()
	c := New(WithTTL(time.Minute), WithLogger(discardLogger()))
	var body atomic.Value
	body.Store("v1")
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			body.Store("v2")
			if _, _, err := http.NewResponseController(w).Hijack(); err == nil {
				return
			}
			w.WriteHeader(http.StatusNoContent) // fallback when hijack is not supported
			return
		}
		io.WriteString(w, body.Load().(string))
	}))
	do(t, h, "GET", "/r")
	do(t, h, "POST", "/r")
	w := do(t, h, "GET", "/r")
	assert.Equal(t, "v2", w.Body.String(), w.Header().Get("Cache-Status"))
}

// G2: same on a forwarded response: the tag fields reach the client.
func TestRegression2FailedHijackLeaksTagFields(t *testing.T) {
	t.Parallel()
	h := New(WithLogger(discardLogger())).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Surrogate-Key", "user-42")
		if _, _, err := http.NewResponseController(w).Hijack(); err == nil {
			return
		}
		io.WriteString(w, "fallback")
	}))
	w := do(t, h, "GET", "/r", "Authorization", "Bearer x")
	assert.Empty(t, w.Header().Get("Surrogate-Key"))
}

// H: an interim 103 sent by an unsafe request strips
// Cache-Group-Invalidation before the final status reads it.
func TestRegression2EarlyHintsDropGroupInvalidation(t *testing.T) {
	t.Parallel()
	c := New(WithTTL(time.Minute), WithLogger(discardLogger()))
	var body atomic.Value
	body.Store("v1")
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			body.Store("v2")
			w.Header().Set("Cache-Group-Invalidation", `"articles"`)
			w.Header().Set("Link", "</app.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusCreated)
			return
		}
		w.Header().Set("Cache-Groups", `"articles"`)
		io.WriteString(w, body.Load().(string))
	}))
	do(t, h, "GET", "/articles/1")
	do(t, h, "POST", "/articles")
	w := do(t, h, "GET", "/articles/1")
	assert.Equal(t, "v2", w.Body.String(), w.Header().Get("Cache-Status"))
}

// I: a 103 sent by a fill carries Surrogate-Control to the client.
func TestRegression2EarlyHintsLeakSurrogateControl(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(New(WithLogger(discardLogger())).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Surrogate-Control", "max-age=60")
		w.Header().Set("Link", "</app.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		io.WriteString(w, "x")
	})))
	defer srv.Close()
	var leaked atomic.Bool
	req, _ := http.NewRequest("GET", srv.URL+"/e", nil)
	// read the raw interim response
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	req = req.WithContext(withGot1xx(req.Context(), func(code int, h map[string][]string) {
		if len(h["Surrogate-Control"]) > 0 {
			leaked.Store(true)
		}
	}))
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	assert.False(t, leaked.Load(), "Surrogate-Control sent on the 103")
}

// J: the leader re-check inside the flight ignores the request's
// min-fresh: a request refused the entry for min-fresh is served it.
func TestRegression2MinFreshIgnoredOnRecheck(t *testing.T) {
	t.Parallel()
	o := newOrigin("x", "Cache-Control", "max-age=60")
	h := New(WithLogger(discardLogger())).Handler(o)
	do(t, h, "GET", "/m")
	w := do(t, h, "GET", "/m", "Cache-Control", "min-fresh=120")
	assert.Equal(t, int64(2), o.calls.Load(), "min-fresh=120 served from an entry with 60s left (%s)", w.Header().Get("Cache-Status"))
}
