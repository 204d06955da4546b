package httpcache

import (
	"io"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

// A background refresh writes to a discard writer that cannot flush, so
// http.ResponseController.Flush fails there with ErrNotSupported where the
// fill's real client succeeded. A handler that stops on a flush error (the
// usual way to notice a client that left) stops after its first chunk, and
// the refresh stores that truncated body for everyone.
func TestRegression5RefreshFlushErrorStoresTruncatedBody(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New(WithTTL(time.Millisecond), WithStaleWhileRevalidate(time.Minute))
		defer c.Close()
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			for _, chunk := range []string{"<html>", "<body>all of it</body>", "</html>"} {
				io.WriteString(w, chunk)
				if err := rc.Flush(); err != nil {
					return // the client left
				}
			}
		}))
		const full = "<html><body>all of it</body></html>"
		checkResponse(t, do(t, h, "GET", "/page"), 200, full, "httpcache; fwd=uri-miss; stored")
		time.Sleep(10 * time.Millisecond)
		w := do(t, h, "GET", "/page") // stale: served, and refreshed in the background
		assert.Equal(t, full, w.Body.String())
		c.Wait()
		w = do(t, h, "GET", "/page")
		assert.Equal(t, full, w.Body.String(), "Cache-Status %q", w.Header().Get("Cache-Status"))
	})
}
