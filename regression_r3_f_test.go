package httpcache

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stale-if-error does not apply to a 5xx whose body is larger than
// WithMaxBodyBytes: the held-body overflow replays the error to the client
// (recorder.Write -> replayHeld) although a stale entry inside its
// stale-if-error window could answer, as it does for a small error body.
func TestRegression3LargeErrorBodySkipsStaleIfError(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New(WithMaxBodyBytes(1024), WithLogger(discardLogger()))
		defer c.Close()
		var fail atomic.Bool
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if fail.Load() {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusServiceUnavailable)
				w.Write([]byte(strings.Repeat("x", 2048))) // a framework's error page
				return
			}
			w.Header().Set("Cache-Control", "max-age=1, stale-if-error=600")
			w.Write([]byte("ok"))
		}))
		require.Equal(t, "ok", do(t, h, "GET", "/e").Body.String())
		time.Sleep(2 * time.Second)
		fail.Store(true)
		w := do(t, h, "GET", "/e")
		assert.Equal(t, http.StatusOK, w.Code, w.Header().Get("Cache-Status"))
		assert.Equal(t, 2, w.Body.Len(), "the stale body")
	})
}
