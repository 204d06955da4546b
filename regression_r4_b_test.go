package httpcache

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// staleChosen is decided when the held 5xx outgrows WithMaxBodyBytes; fillDone
// then serves the stale entry without checking it again, so an Invalidate
// that returned while the handler was still writing its error does not stop
// the old body from being served.
func TestRegression4StaleChosenIgnoresInvalidate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		wrote, proceed := make(chan struct{}), make(chan struct{})
		c := New(WithMaxBodyBytes(64), WithLogger(discardLogger()))
		defer c.Close()
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			Tag(r.Context(), "item")
			if calls.Add(1) == 1 {
				w.Header().Set("Cache-Control", "max-age=10, stale-if-error=600")
				io.WriteString(w, "old")
				return
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, strings.Repeat("x", 100)) // too large to hold back
			close(wrote)
			<-proceed
			io.WriteString(w, "more")
		}))
		require.Equal(t, "old", do(t, h, "GET", "/a").Body.String())
		time.Sleep(15 * time.Second)
		done := make(chan string)
		go func() { done <- do(t, h, "GET", "/a").Body.String() }()
		<-wrote
		require.NoError(t, c.Invalidate(context.Background(), "item"))
		close(proceed)
		assert.NotEqual(t, "old", <-done, "the invalidated entry was served after Invalidate returned")
	})
}
