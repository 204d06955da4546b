package httpcache

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Review 4, suspicion: a route wrapped in c.With(WithKeyFunc(DefaultKey))
// under r.Use(c.Handler) keys as the outer Handler does, so it is stored.
func TestRegression4NestedDefaultKeyFuncStores(t *testing.T) {
	t.Parallel()
	c := New()
	defer c.Close()
	o := newOrigin("x", "Cache-Control", "max-age=60")
	h := c.Handler(c.With(WithKeyFunc(DefaultKey)).Handler(o))
	do(t, h, "GET", "/k")
	w := do(t, h, "GET", "/k")
	assert.True(t, isHit(w), w.Header().Get("Cache-Status"))
	assert.EqualValues(t, 1, o.calls.Load())
}

// Review 4 #3, header tags: a fragment that bypasses the cache still gives
// its Cache-Tag to the page that includes it.
func TestRegression4ForwardedSubrequestHeaderTags(t *testing.T) {
	t.Parallel()
	c := New()
	defer c.Close()
	var rev atomic.Int64
	mux := http.NewServeMux()
	var site http.Handler
	mux.Handle("/frag", c.With(WithKeyFunc(func(*http.Request) string { return "" })).Handler(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Tag", "frag-tag")
			fmt.Fprintf(w, "frag@%d", rev.Load())
		})))
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		sub := httptest.NewRecorder()
		site.ServeHTTP(sub, httptest.NewRequest("GET", "/frag", nil).WithContext(r.Context()))
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "page:", sub.Body.String())
	})
	site = c.Handler(mux)
	assert.Equal(t, "page:frag@0", do(t, site, "GET", "/page").Body.String())
	rev.Store(1)
	require.NoError(t, c.Invalidate(context.Background(), "frag-tag"))
	assert.Equal(t, "page:frag@1", do(t, site, "GET", "/page").Body.String())
}
