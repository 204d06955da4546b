package httpcache

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A background refresh runs the nested Handler with a reqState that is not
// "filling", so passNested never sets noStore: an inner policy that bypasses
// personalised requests (KeyFunc returning "") is ignored by the refresh,
// and the logged-in client's page is stored under the shared key.
func TestRegression4RefreshIgnoresNestedBypass(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		base := func(r *http.Request) string { return "page:" + r.URL.Path }
		c := New(WithKeyFunc(base), WithTTL(10*time.Second), WithStaleWhileRevalidate(time.Minute), WithLogger(discardLogger()))
		defer c.Close()
		route := c.With(WithKeyFunc(anonymousOnly(base))).Handler(greeter)
		h := c.Handler(route)
		require.Equal(t, "hello guest", do(t, h, "GET", "/home").Body.String())
		time.Sleep(15 * time.Second) // stale, inside stale-while-revalidate
		do(t, h, "GET", "/home", "Cookie", "sid=alice")
		c.Wait()
		w := do(t, h, "GET", "/home")
		assert.Equal(t, "hello guest", w.Body.String(), w.Header().Get("Cache-Status"))
	})
}

// revalidated stores the renewed entry with the stale entry's tags (keep),
// but does not add them to an outer Handler's response: a fragment
// revalidated with a 304 (whose handler does not Tag again) leaves the page
// without the fragment's tags, and Invalidate misses the page.
func TestRegression4RevalidatedSubrequestTagsLost(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New(WithLogger(discardLogger()))
		defer c.Close()
		version := "v1"
		frag := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=10")
			w.Header().Set("ETag", `"`+version+`"`)
			if r.Header.Get("If-None-Match") == `"`+version+`"` {
				w.WriteHeader(http.StatusNotModified) // answered before tagging, as ServeContent does
				return
			}
			Tag(r.Context(), "item-1")
			io.WriteString(w, "item "+version)
		}))
		page := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sub := httptest.NewRecorder()
			sr := r.Clone(r.Context())
			sr.URL.Path = "/frag"
			frag.ServeHTTP(sub, sr)
			w.Header().Set("Cache-Control", "max-age=60")
			io.WriteString(w, "page["+sub.Body.String()+"]")
		}))
		require.Equal(t, "item v1", do(t, frag, "GET", "/frag").Body.String())
		time.Sleep(15 * time.Second) // the fragment is stale; it revalidates with a 304
		require.Equal(t, "page[item v1]", do(t, page, "GET", "/page").Body.String())
		version = "v2"
		require.NoError(t, c.Invalidate(context.Background(), "item-1"))
		w := do(t, page, "GET", "/page")
		assert.Equal(t, "page[item v2]", w.Body.String(), "served after Invalidate returned: %s", w.Header().Get("Cache-Status"))
	})
}
