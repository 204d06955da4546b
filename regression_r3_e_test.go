package httpcache

import (
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Refill runs next without the outer middleware, so the outer Vary: Cookie
// (as a session or CSRF middleware adds) is not seen: the refilled entry
// varies on nothing, finishEntry resets the vary index for the resource, and
// every logged-in reader is then served the guest page from the primary key.
// (Review 2 fixed the same for refreshes by seeding rec.pre; refills pass
// nil.)
func TestRegression3RefillDropsOuterVary(t *testing.T) {
	t.Parallel()
	c := New(WithTTL(time.Minute), WithLogger(discardLogger()))
	var ver atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		name := "guest"
		if ck, err := r.Cookie("sid"); err == nil {
			name = ck.Value
		}
		io.WriteString(w, "hello "+name)
	})
	mux.HandleFunc("POST /page", func(w http.ResponseWriter, r *http.Request) {
		ver.Add(1)
		require.NoError(t, Refill(r.Context(), "/page"))
		w.WriteHeader(http.StatusNoContent)
	})
	cached := c.Handler(mux)
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Cookie") // session middleware
		cached.ServeHTTP(w, r)
	})
	require.Equal(t, "hello alice", do(t, outer, "GET", "/page", "Cookie", "sid=alice").Body.String())
	require.Equal(t, "hello guest", do(t, outer, "GET", "/page").Body.String())
	do(t, outer, "POST", "/page")
	c.Wait()
	w := do(t, outer, "GET", "/page", "Cookie", "sid=alice")
	assert.Equal(t, "hello alice", w.Body.String(), w.Header().Get("Cache-Status"))
}
