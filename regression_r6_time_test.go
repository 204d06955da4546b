package httpcache

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

// The hit memo is keyed on whole seconds of age only: with a lifetime that
// is not whole seconds (WithTTL(1500ms)), a stale entry served inside its
// stale-while-revalidate window in the same age-second as an earlier fresh
// hit is reported fresh ("ttl=1").
func TestRegression6SubSecondTTLStaleReportedFresh(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New(WithTTL(1500*time.Millisecond), WithStaleWhileRevalidate(time.Minute), WithLogger(discardLogger()))
		defer c.Close()
		h := c.Handler(newOrigin("v"))
		checkResponse(t, do(t, h, "GET", "/"), 200, "v", statusStored)
		time.Sleep(1200 * time.Millisecond)
		checkResponse(t, do(t, h, "GET", "/"), 200, "v", "httpcache; hit; ttl=1") // fresh: 0.3 s left
		time.Sleep(400 * time.Millisecond)                                        // age 1.6 s: stale by 0.1 s
		w := do(t, h, "GET", "/")
		assert.Equal(t, "httpcache; hit; ttl=-1", w.Header().Get("Cache-Status"), "a stale hit says so")
		c.Wait()
	})
}
