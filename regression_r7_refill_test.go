package httpcache

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// TestRegression7SecondWriteRefillSkipped: two writes in a row, each with
// Invalidate + Refill. The second Refill is skipped because the first
// refill still holds the key's refill flight; the first refill read its
// epoch before the second write's Invalidate, so its result is refused. The
// write-through of the second write is lost: the next reader misses.
func TestRegression7SecondWriteRefillSkipped(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var version atomic.Int64
		version.Store(1)
		block := make(chan struct{})
		var refills atomic.Int64
		c := New()
		defer c.Close()
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				version.Add(1)
				_ = Refill(r.Context(), "/a")
				return
			}
			v := version.Load()
			if refills.Add(1) == 2 { // the first write's refill is slow
				<-block
			}
			w.Header().Set("Cache-Control", "max-age=60")
			fmt.Fprintf(w, "v%d", v)
		}))
		checkResponse(t, do(t, h, "GET", "/a"), 200, "v1", "httpcache; fwd=uri-miss; stored")
		do(t, h, "POST", "/a") // v2, refill 1 starts and blocks
		synctest.Wait()
		do(t, h, "POST", "/a") // v3, refill 2 should start
		close(block)
		c.Wait()
		checkResponse(t, do(t, h, "GET", "/a"), 200, "v3", "httpcache; hit; ttl=60")
	})
}
