package httpcache

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRangeFromEntry: a Range request is answered from a complete stored
// entry with a 206, and goes to the handler, unfilled, on a miss.
func TestRangeFromEntry(t *testing.T) {
	t.Parallel()
	o := newOrigin("0123456789", "Cache-Control", "max-age=60", "ETag", `"v"`)
	c := New()
	defer c.Close()
	h := c.Handler(o)
	miss := do(t, h, "GET", "/", "Range", "bytes=0-1")
	assert.Equal(t, statusBypass, miss.Header().Get("Cache-Status"))
	assert.EqualValues(t, 1, o.calls.Load())

	checkResponse(t, do(t, h, "GET", "/"), 200, "0123456789", statusStored)
	w := do(t, h, "GET", "/", "Range", "bytes=2-4")
	checkResponse(t, w, http.StatusPartialContent, "234", "httpcache; hit; ttl=60")
	assert.Equal(t, "3", w.Header().Get("Content-Length"))
	assert.Equal(t, "bytes 2-4/10", w.Header().Get("Content-Range"))
	stale := do(t, h, "GET", "/", "Range", "bytes=2-4", "If-Range", `"old"`)
	checkResponse(t, stale, 200, "0123456789", "httpcache; hit; ttl=60")
	assert.EqualValues(t, 2, o.calls.Load())
}

func TestNotModified(t *testing.T) {
	t.Parallel()
	e := &Entry{Status: 200, Header: http.Header{"Etag": {`"a"`}, "Last-Modified": {"Mon, 02 Jan 2006 15:04:05 GMT"}}}
	tests := []struct {
		name string
		kv   []string
		want bool
	}{
		{"no conditions", nil, false},
		{"inm match", []string{"If-None-Match", `"a"`}, true},
		{"inm weak match", []string{"If-None-Match", `W/"a"`}, true},
		{"inm list", []string{"If-None-Match", `"x", "a"`}, true},
		{"inm star", []string{"If-None-Match", `*`}, true},
		{"inm other", []string{"If-None-Match", `"b"`}, false},
		{"inm malformed", []string{"If-None-Match", `a, "`}, false},
		{"inm wins over ims", []string{"If-None-Match", `"b"`, "If-Modified-Since", "Mon, 02 Jan 2006 15:04:05 GMT"}, false},
		{"ims equal", []string{"If-Modified-Since", "Mon, 02 Jan 2006 15:04:05 GMT"}, true},
		{"ims before", []string{"If-Modified-Since", "Mon, 02 Jan 2006 15:04:04 GMT"}, false},
		{"ims malformed", []string{"If-Modified-Since", "yesterday"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, _ := http.NewRequest("GET", "/", nil)
			for i := 0; i+1 < len(tc.kv); i += 2 {
				r.Header.Add(tc.kv[i], tc.kv[i+1])
			}
			assert.Equal(t, tc.want, notModified(r, e))
		})
	}
}
