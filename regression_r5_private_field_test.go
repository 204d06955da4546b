package httpcache

import (
	"io"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

// Cache-Control: private="X-User" lets the response be stored without that
// field. A fill drops it; a 304 that renews the entry does not: its X-User
// (one client's) is merged into the shared entry and served to everyone.
func TestRegression5RevalidationStoresPrivateField(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New()
		defer c.Close()
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", `max-age=1, private="X-User"`)
			w.Header().Set("X-User", r.Header.Get("X-Test-User")) // from the session
			w.Header().Set("Etag", `"v1"`)
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			io.WriteString(w, "public page")
		}))
		w := do(t, h, "GET", "/page", "X-Test-User", "alice")
		assert.Equal(t, "alice", w.Header().Get("X-User"), "her own response")
		w = do(t, h, "GET", "/page", "X-Test-User", "carol")
		assert.Empty(t, w.Header().Get("X-User"), "a hit never carries the private field")

		time.Sleep(1100 * time.Millisecond) // stale: the next request revalidates
		w = do(t, h, "GET", "/page", "X-Test-User", "bob")
		assert.Equal(t, "public page", w.Body.String())

		w = do(t, h, "GET", "/page", "X-Test-User", "carol")
		assert.Equal(t, "public page", w.Body.String())
		assert.Contains(t, w.Header().Get("Cache-Status"), "hit")
		assert.Empty(t, w.Header().Get("X-User"), "carol is served bob's private field")
	})
}
