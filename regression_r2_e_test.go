package httpcache

import (
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// R: the store decision counts outer middleware's Cache-Control (the fix
// for the first review), but freshen judges the 304 without it: an entry
// made storable by the outer max-age can never be renewed by a 304, and
// every request after expiry goes to the handler.
func TestRegression2FreshenIgnoresOuterCacheControl(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New(WithLogger(discardLogger()))
		defer c.Close()
		var calls atomic.Int64
		inner := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("Etag", `"v1"`)
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			io.WriteString(w, "body")
		}))
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=10") // site-wide policy middleware
			inner.ServeHTTP(w, r)
		})
		do(t, h, "GET", "/f")
		require.Contains(t, do(t, h, "GET", "/f").Header().Get("Cache-Status"), "hit")
		time.Sleep(11 * time.Second)
		require.Contains(t, do(t, h, "GET", "/f").Header().Get("Cache-Status"), "fwd-status=304")
		before := calls.Load()
		w := do(t, h, "GET", "/f")
		assert.Equal(t, before, calls.Load(), "the 304 did not renew the entry (%s)", w.Header().Get("Cache-Status"))
	})
}
