package httpcache

import (
	"net/http"
	"sync/atomic"
	"testing"
)

// TestRegression8RefillOfItselfLoops: a GET handler that asks for a refill of
// its own URL. Before a38a42e the refill's own Refill found the refill
// flight held and was skipped; now it sets rerun, so each run asks for the
// next one: the refill loops until Close (Wait never returns). The cap of
// 50 handler calls only keeps the test finite.
func TestRegression8RefillOfItselfLoops(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	c := New()
	defer c.Close()
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 50 {
			_ = Refill(r.Context(), "/x")
		}
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("x"))
	}))
	do(t, h, "GET", "/x") // the fill, then one refill of /x
	c.Wait()
	if n := calls.Load(); n > 3 {
		t.Fatalf("handler ran %d times for one GET: the refill reran itself", n)
	}
}
