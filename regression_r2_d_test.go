package httpcache

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// P: a fill forwards the client's If-Match / If-Unmodified-Since (only
// If-None-Match and If-Modified-Since are removed). http.ServeContent
// answers 412, which, carrying the handler's usual max-age, is stored under
// the key: one request makes the page 412 for everyone.
func TestRegression2PreconditionFailedPoisonsKey(t *testing.T) {
	t.Parallel()
	h := New(WithLogger(discardLogger())).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Etag", `"v1"`)
		http.ServeContent(w, r, "a.txt", time.Time{}, strings.NewReader("content"))
	}))
	a := do(t, h, "GET", "/a", "If-Match", `"other"`)
	require.Equal(t, http.StatusPreconditionFailed, a.Code)
	w := do(t, h, "GET", "/a")
	assert.Equal(t, http.StatusOK, w.Code, w.Header().Get("Cache-Status"))
	assert.Equal(t, "content", w.Body.String())
}
