package httpcache

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
)

// TestRegression7TransientServerErrorMarksHitForMiss: one 507 (or 505, 508,
// any 5xx outside 500/502/503/504) marks the key hit-for-miss for 30 s:
// its reason is "no freshness", not "status", so unshareable does not treat
// it as a server error. The next burst of requests is not collapsed: every
// one of them runs the handler, the herd collapsing exists to prevent, just
// as the origin recovers.
func TestRegression7TransientServerErrorMarksHitForMiss(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		open := make(chan struct{})
		c := New(WithLogger(discardLogger()))
		defer c.Close()
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				w.WriteHeader(http.StatusInsufficientStorage) // transient
				return
			}
			<-open
			w.Header().Set("Cache-Control", "max-age=60")
			io.WriteString(w, "ok")
		}))
		do(t, h, "GET", "/")
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)) })
		}
		synctest.Wait()
		assert.EqualValues(t, 2, calls.Load(), "the burst after a 507 should run the handler once")
		close(open)
		wg.Wait()
	})
}
