package httpcache

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A 416 answered from an entry keeps the entry's Expires (ServeContent's
// serveError strips Cache-Control but not Expires, and preconditionWriter
// only cleans a 412): a downstream shared cache may store the 416 as
// explicitly fresh and serve it to plain GETs.
func TestRegression4RangeNotSatisfiableCarriesExpires(t *testing.T) {
	t.Parallel()
	c := New(WithLogger(discardLogger()))
	defer c.Close()
	o := newOrigin("hello", "Expires", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
	h := c.Handler(o)
	require.Equal(t, "hello", do(t, h, "GET", "/a").Body.String())
	w := do(t, h, "GET", "/a", "Range", "bytes=100-200")
	require.Equal(t, http.StatusRequestedRangeNotSatisfiable, w.Code)
	assert.Empty(t, w.Header().Get("Expires"), "a 416 for one client's Range carries the entry's freshness")
}
