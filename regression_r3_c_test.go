package httpcache

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An entry with Content-Encoding and no Content-Type (net/http does not sniff
// an encoded body, nor does completeHeader) is answered to a Range or
// precondition request by http.ServeContent, which sniffs the encoded bytes:
// the client is told Content-Type: application/x-gzip, Content-Encoding:
// gzip, so it decodes the body into what it then takes for gzip data. A HEAD
// with a satisfied If-Match also loses Content-Length.
func TestRegression3RangeSniffsEncodedContentType(t *testing.T) {
	t.Parallel()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("hello, world"))
	zw.Close()
	c := New(WithLogger(discardLogger()))
	srv := httptest.NewServer(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gz.Bytes())
	})))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	var send func(method string, kv ...string) *http.Response
	get := func(kv ...string) *http.Response { return send("GET", kv...) }
	send = func(method string, kv ...string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+"/z", nil)
		for i := 0; i+1 < len(kv); i += 2 {
			req.Header.Set(kv[i], kv[i+1])
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	first := get()
	require.Empty(t, first.Header.Get("Content-Type"), "origin: no Content-Type")
	hit := get()
	require.Contains(t, hit.Header.Get("Cache-Status"), "hit")
	assert.Empty(t, hit.Header.Get("Content-Type"), "plain hit")
	ranged := get("Range", "bytes=0-3")
	require.Equal(t, http.StatusPartialContent, ranged.StatusCode)
	assert.Empty(t, ranged.Header.Get("Content-Type"), "a 206 of the same representation")
	ifMatch := get("If-Match", "*")
	assert.Empty(t, ifMatch.Header.Get("Content-Type"), "a 200 to If-Match: *")
	head := send("HEAD")
	headIfMatch := send("HEAD", "If-Match", "*")
	assert.Equal(t, head.Header.Get("Content-Length"), headIfMatch.Header.Get("Content-Length"),
		"HEAD with a true If-Match loses Content-Length (serveRange deletes it, ServeContent skips it with Content-Encoding)")
}

// A 412 answered from an entry by http.ServeContent keeps every stored field:
// the entry's Cache-Control: max-age (and Expires) make the 412 storable by
// a downstream shared cache (RFC 9111 Section 3), which then serves it to
// plain GETs: review 2's 412 poisoning, one tier down. (ServeContent's own
// errors, 416, strip Cache-Control; its 412 does not.)
func TestRegression3PreconditionFailedCarriesFreshness(t *testing.T) {
	t.Parallel()
	c := New(WithLogger(discardLogger()))
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=600")
		w.Header().Set("Expires", time.Now().Add(10*time.Minute).UTC().Format(http.TimeFormat))
		w.Header().Set("Etag", `"v1"`)
		w.Write([]byte("body"))
	}))
	do(t, h, "GET", "/p")
	w := do(t, h, "GET", "/p", "If-Match", `"v0"`)
	require.Equal(t, http.StatusPreconditionFailed, w.Code)
	assert.NotContains(t, w.Header().Get("Cache-Control"), "max-age", "a 412 with max-age=600 is storable downstream")
	assert.Empty(t, w.Header().Get("Expires"))
}

// A Range with a unit other than bytes must be ignored (RFC 9110 Section
// 14.2: "An origin server MUST ignore a Range header field that contains a
// range unit it does not understand"); the handler does, but a hit is
// answered by http.ServeContent, which says 416 "invalid range". A miss
// passes by (200), so the same request gets 200 or 416 depending on the
// cache's state.
func TestRegression3UnknownRangeUnit416(t *testing.T) {
	t.Parallel()
	c := New(WithLogger(discardLogger()))
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("0123456789"))
	}))
	miss := do(t, h, "GET", "/u", "Range", "items=0-1")
	require.Equal(t, http.StatusOK, miss.Code)
	do(t, h, "GET", "/u")
	hit := do(t, h, "GET", "/u", "Range", "items=0-1")
	assert.Equal(t, http.StatusOK, hit.Code, hit.Header().Get("Cache-Status"))
	assert.Equal(t, "0123456789", hit.Body.String())
}
