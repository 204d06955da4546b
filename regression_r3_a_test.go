package httpcache

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Handler of the same cache mounted under http.StripPrefix is no longer
// "nested" (sameResource compares the rewritten path), so it fills under
// its own state: the tags the handler gives (Tag, or Cache-Tag) reach only
// the inner entry. The outer entry keeps only its URL tag, and
// Invalidate(tag) returns while the outer entry still serves the old body.
func TestRegression3StripPrefixLosesTags(t *testing.T) {
	t.Parallel()
	for _, viaHeader := range []bool{false, true} {
		name := "Tag"
		if viaHeader {
			name = "Cache-Tag"
		}
		t.Run(name, func(t *testing.T) {
			c := New(WithTTL(time.Minute), WithLogger(discardLogger()))
			var v atomic.Value
			v.Store("v1")
			api := c.With(WithStaleIfError(time.Second)).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if viaHeader {
					w.Header().Set("Cache-Tag", "item-1")
				} else {
					Tag(r.Context(), "item-1")
				}
				io.WriteString(w, v.Load().(string))
			}))
			mux := http.NewServeMux()
			mux.Handle("/api/", http.StripPrefix("/api", api))
			h := c.Handler(mux)
			require.Equal(t, "v1", do(t, h, "GET", "/api/items/1").Body.String())
			v.Store("v2")
			require.NoError(t, c.Invalidate(context.Background(), "item-1"))
			w := do(t, h, "GET", "/api/items/1")
			assert.Equal(t, "v2", w.Body.String(), "served after Invalidate returned: %s", w.Header().Get("Cache-Status"))
		})
	}
}

// The same with a sub-request for another resource (a page composed of a
// fragment): the fragment's tags do not reach the page's entry, whether the
// sub-request fills the fragment or hits it.
func TestRegression3SubrequestTagsNotOnPage(t *testing.T) {
	t.Parallel()
	for _, warm := range []bool{false, true} {
		t.Run(map[bool]string{false: "fragment filled", true: "fragment hit"}[warm], func(t *testing.T) {
			c := New(WithTTL(time.Minute), WithLogger(discardLogger()))
			var price atomic.Value
			price.Store("10")
			mux := http.NewServeMux()
			var h http.Handler
			mux.HandleFunc("GET /fragment/price", func(w http.ResponseWriter, r *http.Request) {
				Tag(r.Context(), "price")
				io.WriteString(w, price.Load().(string))
			})
			mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
				sub := httptest.NewRequest("GET", "/fragment/price", nil).WithContext(r.Context())
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, sub)
				io.WriteString(w, "price="+rec.Body.String())
			})
			h = c.Handler(mux)
			if warm {
				require.Equal(t, "10", do(t, h, "GET", "/fragment/price").Body.String())
			}
			require.Equal(t, "price=10", do(t, h, "GET", "/page").Body.String())
			price.Store("20")
			require.NoError(t, c.Invalidate(context.Background(), "price"))
			w := do(t, h, "GET", "/page")
			assert.Equal(t, "price=20", w.Body.String(), w.Header().Get("Cache-Status"))
		})
	}
}

// A nested policy's KeyFunc is ignored: the outer Handler keys the route
// with its own KeyFunc, so a per-tenant key (or a KeyFunc returning "" to
// bypass personalised requests) does not apply, and one client's page is
// served to another.
func TestRegression3NestedKeyFuncIgnored(t *testing.T) {
	t.Parallel()
	t.Run("tenant key", func(t *testing.T) {
		c := New(WithTTL(time.Minute), WithLogger(discardLogger()))
		tenant := func(r *http.Request) string { return r.Header.Get("X-Tenant") + "\x00" + DefaultKey(r) }
		route := c.With(WithKeyFunc(tenant)).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "tenant "+r.Header.Get("X-Tenant"))
		}))
		h := c.Handler(route)
		do(t, h, "GET", "/dash", "X-Tenant", "a")
		w := do(t, h, "GET", "/dash", "X-Tenant", "b")
		assert.Equal(t, "tenant b", w.Body.String(), w.Header().Get("Cache-Status"))
	})
	t.Run("bypass key", func(t *testing.T) {
		c := New(WithTTL(time.Minute), WithLogger(discardLogger()))
		route := c.With(WithKeyFunc(anonymousOnly(DefaultKey))).Handler(greeter)
		h := c.Handler(route)
		do(t, h, "GET", "/home", "Cookie", "sid=alice")
		w := do(t, h, "GET", "/home")
		assert.Equal(t, "hello guest", w.Body.String(), w.Header().Get("Cache-Status"))
	})
}
