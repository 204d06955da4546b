package httpcache

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A sub-request that a Handler of the same cache forwards (its policy
// bypasses it: KeyFunc returns "") adds its Tag calls to the outer response
// but not its URL tag, unlike a filled or hit sub-request. A successful
// POST to the fragment's URL then leaves the page served with the old
// fragment.
func TestRegression4ForwardedSubrequestURLTagLost(t *testing.T) {
	t.Parallel()
	c := New(WithTTL(time.Minute), WithLogger(discardLogger()))
	defer c.Close()
	var version atomic.Value
	version.Store("v1")
	frag := c.With(WithKeyFunc(func(*http.Request) string { return "" })).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			version.Store("v2")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, "frag "+version.Load().(string))
	}))
	page := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sub := httptest.NewRecorder()
		sr := r.Clone(r.Context())
		sr.URL.Path = "/frag"
		frag.ServeHTTP(sub, sr)
		io.WriteString(w, "page["+sub.Body.String()+"]")
	}))
	require.Equal(t, "page[frag v1]", do(t, page, "GET", "/page").Body.String())
	require.Equal(t, http.StatusNoContent, do(t, c.Handler(frag), "POST", "/frag").Code)
	w := do(t, page, "GET", "/page")
	assert.Equal(t, "page[frag v2]", w.Body.String(), "after POST /frag succeeded: %s", w.Header().Get("Cache-Status"))
}
