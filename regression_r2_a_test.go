package httpcache

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A: a Handler of c.With(...) nested inside c.Handler (r.Use(c.Handler)
// around a route with its own policy) has its policy ignored: the outer
// policy caches the route. WithTTL(0) on a personalised route is ignored.
func TestRegression2NestedPolicyIgnoredTTL(t *testing.T) {
	t.Parallel()
	c := New(WithTTL(time.Minute), WithLogger(discardLogger()))
	route := c.With(WithTTL(0)).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, _ := r.Cookie("sid")
		io.WriteString(w, "hello "+ck.Value)
	}))
	h := c.Handler(route)
	do(t, h, "GET", "/me", "Cookie", "sid=alice")
	w := do(t, h, "GET", "/me", "Cookie", "sid=bob")
	assert.Equal(t, "hello bob", w.Body.String(), w.Header().Get("Cache-Status"))
}

// A2: same with WithVary: the inner policy's Vary is ignored, one tenant's
// page is served to another.
func TestRegression2NestedPolicyIgnoredVary(t *testing.T) {
	t.Parallel()
	c := New(WithTTL(time.Minute), WithLogger(discardLogger()))
	route := c.With(WithVary("X-Tenant")).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "tenant "+r.Header.Get("X-Tenant"))
	}))
	h := c.Handler(route)
	do(t, h, "GET", "/dash", "X-Tenant", "a")
	w := do(t, h, "GET", "/dash", "X-Tenant", "b")
	assert.Equal(t, "tenant b", w.Body.String(), w.Header().Get("Cache-Status"))
}

// B: an internal sub-request with an unsafe method, dispatched through the
// same cached router with the parent's context (batch endpoints), passes
// straight through the nested check: its URL is not invalidated.
func TestRegression2NestedUnsafeSubrequestNotInvalidated(t *testing.T) {
	t.Parallel()
	c := New(WithTTL(time.Minute), WithLogger(discardLogger()))
	var body atomic.Value
	body.Store("v1")
	mux := http.NewServeMux()
	var h http.Handler
	mux.HandleFunc("GET /items/1", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body.Load().(string))
	})
	mux.HandleFunc("PUT /items/1", func(w http.ResponseWriter, r *http.Request) {
		body.Store("v2")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /batch", func(w http.ResponseWriter, r *http.Request) {
		sub := httptest.NewRequest("PUT", "/items/1", nil).WithContext(r.Context())
		h.ServeHTTP(httptest.NewRecorder(), sub)
		w.WriteHeader(http.StatusOK)
	})
	h = c.Handler(mux)
	require.Equal(t, "v1", do(t, h, "GET", "/items/1").Body.String())
	do(t, h, "POST", "/batch")
	w := do(t, h, "GET", "/items/1")
	assert.Equal(t, "v2", w.Body.String(), w.Header().Get("Cache-Status"))
}

// C: Refill from a request that came over TLS fills the http key: the
// write-through never warms the https entry the next reader looks up.
func TestRegression2RefillOverTLSFillsHTTPKey(t *testing.T) {
	t.Parallel()
	c := New(WithLogger(discardLogger()))
	defer c.Close()
	var gets atomic.Int64
	var sawTLS atomic.Bool
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			require.NoError(t, Refill(r.Context(), "/x"))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		gets.Add(1)
		sawTLS.Store(r.TLS != nil)
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "x")
	}))
	do(t, h, "POST", "https://example.com/x")
	c.Wait()
	require.Equal(t, int64(1), gets.Load(), "the refill ran")
	assert.True(t, sawTLS.Load(), "refill request lost r.TLS")
	w := do(t, h, "GET", "https://example.com/x")
	assert.Contains(t, w.Header().Get("Cache-Status"), "hit", "refill did not warm the https key")
	assert.Equal(t, int64(1), gets.Load())
}

type review2UserKey struct{}

// review2Auth is an auth middleware outside the cache: it puts the session's
// user in the context and marks the response private, which the fix for the
// first review says the cache honours.
func review2Auth(inner http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ck, err := r.Cookie("sid"); err == nil {
			r = r.WithContext(context.WithValue(r.Context(), review2UserKey{}, ck.Value))
			w.Header().Set("Cache-Control", "private")
		}
		inner.ServeHTTP(w, r)
	})
}

func review2Page(w http.ResponseWriter, r *http.Request) {
	if r.Method == "POST" {
		Refill(r.Context(), "/page")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	u, _ := r.Context().Value(review2UserKey{}).(string)
	if u == "" {
		u = "guest"
	}
	io.WriteString(w, "hello "+u)
}

// D: a Refill runs with the writer's context values but without the outer
// middleware that marks that user's pages private: the writer's personal
// page is stored and served to everyone.
func TestRegression2RefillStoresWritersPrivatePage(t *testing.T) {
	t.Parallel()
	c := New(WithTTL(time.Minute), WithLogger(discardLogger()))
	defer c.Close()
	h := review2Auth(c.Handler(http.HandlerFunc(review2Page)))
	// the normal path honours the outer private
	do(t, h, "GET", "/page", "Cookie", "sid=alice")
	require.Equal(t, "hello guest", do(t, h, "GET", "/page").Body.String())
	do(t, h, "POST", "/page", "Cookie", "sid=alice")
	c.Wait()
	w := do(t, h, "GET", "/page")
	assert.Equal(t, "hello guest", w.Body.String(), w.Header().Get("Cache-Status"))
}

// D2: same through a stale-while-revalidate refresh triggered by a
// logged-in user's stale hit.
func TestRegression2RefreshStoresPrivatePage(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New(WithTTL(time.Second), WithStaleWhileRevalidate(time.Minute), WithLogger(discardLogger()))
		defer c.Close()
		h := review2Auth(c.Handler(http.HandlerFunc(review2Page)))
		require.Equal(t, "hello guest", do(t, h, "GET", "/page").Body.String())
		time.Sleep(2 * time.Second)
		do(t, h, "GET", "/page", "Cookie", "sid=alice") // stale hit, refresh as alice
		c.Wait()
		w := do(t, h, "GET", "/page")
		assert.Equal(t, "hello guest", w.Body.String(), w.Header().Get("Cache-Status"))
	})
}

// D3: the outer Content-Type that the fix keeps from being replaced by a
// sniffed one on hits is replaced after a background refresh.
func TestRegression2RefreshSniffsOverOuterContentType(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New(WithTTL(time.Second), WithStaleWhileRevalidate(time.Minute), WithLogger(discardLogger()))
		defer c.Close()
		inner := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"a":1}`)
		}))
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			inner.ServeHTTP(w, r)
		})
		require.Equal(t, "application/json", do(t, h, "GET", "/api").Header().Get("Content-Type"))
		time.Sleep(2 * time.Second)
		do(t, h, "GET", "/api")
		c.Wait()
		w := do(t, h, "GET", "/api")
		assert.Equal(t, "application/json", w.Header().Get("Content-Type"), w.Header().Get("Cache-Status"))
	})
}
