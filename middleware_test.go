package httpcache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestHandlerMissThenHit(t *testing.T) {
	t.Parallel()
	o := newOrigin("hello", "Cache-Control", "max-age=60", "Content-Type", "text/plain")
	c := New()
	defer c.Close()
	h := c.Handler(o)

	checkResponse(t, do(t, h, "GET", "/a"), 200, "hello", statusStored)
	w := do(t, h, "GET", "/a")
	checkResponse(t, w, 200, "hello", "httpcache; hit; ttl=60")
	assert.Equal(t, "0", w.Header().Get("Age"))
	assert.Equal(t, "5", w.Header().Get("Content-Length"))
	assert.Equal(t, "text/plain", w.Header().Get("Content-Type"))
	assert.EqualValues(t, 1, o.calls.Load())

	head := do(t, h, "HEAD", "/a")
	checkResponse(t, head, 200, "", "httpcache; hit; ttl=60")
	assert.Equal(t, "5", head.Header().Get("Content-Length"))
	assert.EqualValues(t, 1, o.calls.Load())
}

func TestHandlerTTLPolicy(t *testing.T) {
	t.Parallel()
	o := newOrigin("x")
	plain := New()
	defer plain.Close()
	checkResponse(t, do(t, plain.Handler(o), "GET", "/"), 200, "x", statusMiss)
	checkResponse(t, do(t, plain.Handler(o), "GET", "/"), 200, "x", statusMiss)

	ttl := plain.With(WithTTL(time.Minute))
	checkResponse(t, do(t, ttl.Handler(o), "GET", "/"), 200, "x", statusStored)
	checkResponse(t, do(t, ttl.Handler(o), "GET", "/"), 200, "x", "httpcache; hit; ttl=60")
	assert.EqualValues(t, 3, o.calls.Load())
}

func TestHandlerConditional(t *testing.T) {
	t.Parallel()
	o := newOrigin("v1", "Cache-Control", "max-age=60", "ETag", `"v1"`, "Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
	c := New()
	defer c.Close()
	h := c.Handler(o)
	do(t, h, "GET", "/")
	w := do(t, h, "GET", "/", "If-None-Match", `W/"v0", "v1"`)
	assert.Equal(t, 304, w.Code)
	assert.Empty(t, w.Body.String())
	w = do(t, h, "GET", "/", "If-Modified-Since", "Mon, 02 Jan 2006 15:04:05 GMT")
	assert.Equal(t, 304, w.Code)
	w = do(t, h, "GET", "/", "If-None-Match", `"v0"`)
	assert.Equal(t, 200, w.Code)
	assert.EqualValues(t, 1, o.calls.Load())
}
