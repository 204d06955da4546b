package httpcache

import (
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// After Close, a Handler passes requests to next without its state, so the
// Invalidate hook returns ErrNoCache (its doc says that happens only for a
// context that did not come through Handler) and a successful POST no longer
// invalidates its URL. With the store and versions shared by another
// instance (the documented multi-process set-up), that instance goes on
// serving the data the write replaced, and a handler written as the README's
// saveArticle answers 500 to a write it committed.
func TestRegression5ClosedInstanceSkipsInvalidation(t *testing.T) {
	t.Parallel()
	store, versions := NewMemoryStore(1<<20), NewMemoryVersions()
	var data atomic.Value
	data.Store("v1")
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			data.Store("v2")
			if err := Invalidate(r.Context(), "article"); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		Tag(r.Context(), "article")
		io.WriteString(w, data.Load().(string))
	})
	a := New(WithStore(store), WithVersions(versions), WithTTL(time.Hour))
	b := New(WithStore(store), WithVersions(versions), WithTTL(time.Hour))
	defer b.Close()
	ha, hb := a.Handler(app), b.Handler(app)

	checkResponse(t, do(t, hb, "GET", "/article"), 200, "v1", "httpcache; fwd=uri-miss; stored")
	a.Close() // instance a drains during its shutdown
	w := do(t, ha, "POST", "/article")
	assert.Equal(t, http.StatusNoContent, w.Code, "the write succeeded: %s", w.Body.String())
	w = do(t, hb, "GET", "/article")
	assert.Equal(t, "v2", w.Body.String(), "instance b after the write (Cache-Status %q)", w.Header().Get("Cache-Status"))
}
