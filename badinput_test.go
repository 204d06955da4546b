package httpcache

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outcome is what two identical requests through the cache lead to.
type outcome int

const (
	outStored       outcome = iota // the first fills and is stored, the second is a hit: 1 call
	outUnstored                    // neither is stored: 2 calls, Cache-Status uri-miss
	outRefilled                    // stored, but never served without the handler: 2 calls
	outBypassed                    // the cache stays out of the way: 2 calls, fwd=bypass
	outOnlyIfCached                // only-if-cached on a miss: 504 from the cache, 0 calls (RFC 9111 Section 5.2.1.7)
)

// TestBadInput lists each odd case of issue 2 ("Bad input never hurts"):
// malformed fields from the handler and odd requests get a safe outcome,
// never a panic and never a 5xx from the cache.
func TestBadInput(t *testing.T) {
	t.Parallel()
	cc := func(v ...string) []string {
		var kv []string
		for _, s := range v {
			kv = append(kv, "Cache-Control", s)
		}
		return kv
	}
	maxAge := cc("max-age=60")
	tests := []struct {
		name    string
		opts    []Option
		resp    []string // the handler's header fields, name then value
		target  string   // "" is "/"
		req     []string // the request's header fields, name then value
		reqBody string
		mut     func(*http.Request)
		want    outcome
	}{
		// Malformed Cache-Control from the handler.
		{name: "max-age not a number", resp: cc("max-age=abc"), want: outUnstored},
		{name: "negative max-age", resp: cc("max-age=-1"), want: outUnstored},
		{name: "max-age with spaces around = (read leniently)", resp: cc("max-age = 60"), want: outStored},
		{name: "max-age beyond 2^31", resp: cc("max-age=99999999999999999999"), want: outStored},
		{name: "max-age quoted", resp: cc(`max-age="60"`), want: outStored},
		{name: "Cache-Control garbage", resp: cc(`;;,,"unterminated`), want: outUnstored},
		{name: "garbage around max-age", resp: cc(`foo="a,b", max-age=60, =, bar`), want: outStored},
		{name: "no-store on a second line", resp: cc("max-age=60", "no-store"), want: outUnstored},
		{name: "NO-STORE upper case", resp: cc("max-age=60, NO-STORE"), want: outUnstored},
		{name: "unterminated qualified private", resp: cc(`max-age=60, private="Authorization`), want: outUnstored},
		{name: "duplicate max-age, first wins", resp: cc("max-age=60, max-age=0"), want: outStored},
		{name: "huge Cache-Control", resp: cc(strings.Repeat("x,", 20000) + "max-age=60"), want: outStored},
		// Malformed Expires, Date and Age.
		{name: "Expires 0 under WithTTL", opts: []Option{WithTTL(time.Minute)}, resp: []string{"Expires", "0"}, want: outUnstored},
		{name: "Expires in the past", opts: []Option{WithTTL(time.Minute)}, resp: []string{"Expires", "Thu, 01 Jan 1970 00:00:00 GMT"}, want: outUnstored},
		{name: "Expires with a malformed Date", resp: []string{"Expires", "Fri, 01 Jan 2100 00:00:00 GMT", "Date", "yesterday"}, want: outStored},
		{name: "Date malformed", resp: append(cc("max-age=60"), "Date", "yesterday"), want: outStored},
		{name: "Date in the future", resp: append(cc("max-age=60"), "Date", "Fri, 01 Jan 2100 00:00:00 GMT"), want: outStored},
		{name: "Date long in the past", resp: append(cc("max-age=60"), "Date", "Thu, 01 Jan 1970 00:00:00 GMT"), want: outRefilled},
		{name: "Age not a number", resp: append(cc("max-age=60"), "Age", "abc"), want: outRefilled}, // an invalid Age is stale (cache-tests age-parse-nonnumeric),
		{name: "Age negative", resp: append(cc("max-age=60"), "Age", "-5"), want: outRefilled},      // cache-tests age-parse-negative,
		{name: "Age beyond max-age", resp: append(cc("max-age=60"), "Age", "120"), want: outRefilled},
		// RFC 9111 Section 1.2.2: a delta-seconds too large to represent is 2^31.
		{name: "Age overflowing int64", resp: append(cc("max-age=60"), "Age", "99999999999999999999"), want: outRefilled},
		// An Age that is not one delta-seconds counts as stale, even when its
		// first member is fresh (stricter than RFC 9111 Section 5.1's SHOULD).
		{name: "Age as a list", resp: append(cc("max-age=60"), "Age", "5, 120"), want: outRefilled},
		// Malformed Vary and validators.
		{name: "Vary with an invalid name", resp: append(cc("max-age=60"), "Vary", "Accept, (bad)"), want: outUnstored},
		{name: "Vary star among names", resp: append(cc("max-age=60"), "Vary", "Accept, *"), want: outUnstored},
		{name: "Vary with empty elements", resp: append(cc("max-age=60"), "Vary", " , ,Accept,,"), want: outStored},
		{name: "Vary empty", resp: append(cc("max-age=60"), "Vary", ""), want: outStored},
		{name: "ETag unquoted with no-cache", resp: append(cc("no-cache"), "ETag", "abc"), want: outRefilled},
		{name: "ETag garbage, conditional request", resp: append(cc("max-age=60"), "ETag", `"a`), req: []string{"If-None-Match", `"a`}, want: outStored},
		{name: "Last-Modified malformed, conditional request", resp: append(cc("max-age=60"), "Last-Modified", "yesterday"),
			req: []string{"If-Modified-Since", "Thu, 01 Jan 2099 00:00:00 GMT"}, want: outStored},
		{name: "If-Modified-Since malformed", resp: append(cc("max-age=60"), "Last-Modified", "Thu, 01 Jan 1970 00:00:00 GMT"),
			req: []string{"If-Modified-Since", "soon"}, want: outStored},
		// Odd requests.
		{name: "path over 8 KiB", resp: maxAge, target: "/" + strings.Repeat("p", 9<<10), want: outBypassed},
		{name: "query over 8 KiB", resp: maxAge, target: "/?q=" + strings.Repeat("q", 9<<10), want: outBypassed},
		{name: "non-UTF-8 raw path", resp: maxAge, target: "/caf\xe9", want: outStored},
		{name: "non-UTF-8 escaped path", resp: maxAge, target: "/caf%E9%FF", want: outStored},
		{name: "non-UTF-8 query", resp: maxAge, target: "/?q=%ff\xfe&r=\xc3", want: outStored},
		{name: "dot segments", resp: maxAge, target: "/a/../b/./c", want: outStored},
		{name: "repeated Accept", resp: maxAge, req: []string{"Accept", "a", "Accept", "b"}, want: outStored},
		{name: "repeated Cache-Control, no-store second", resp: maxAge, req: cc("max-stale=5", "no-store"), want: outBypassed},
		{name: "request Cache-Control garbage", resp: maxAge, req: cc("max-stale=abc, min-fresh=x, ,,="), want: outStored},
		{name: "GET with a body", resp: maxAge, reqBody: "x", want: outBypassed},
		{name: "X-HTTP-Method-Override", resp: maxAge, req: []string{"X-HTTP-Method-Override", "DELETE"}, want: outBypassed},
		{name: "X-Method-Override", resp: maxAge, req: []string{"X-Method-Override", "PUT"}, want: outBypassed},
		{name: "X-HTTP-Method", resp: maxAge, req: []string{"X-HTTP-Method", "PATCH"}, want: outBypassed},
		{name: "Authorization", resp: maxAge, req: []string{"Authorization", "Bearer alice"}, want: outBypassed},
		{name: "empty Authorization", resp: maxAge, req: []string{"Authorization", ""}, want: outBypassed},
		{name: "Range", resp: maxAge, req: []string{"Range", "bytes=0-1"}, want: outBypassed},
		{name: "Upgrade", resp: maxAge, req: []string{"Upgrade", "websocket", "Connection", "Upgrade"}, want: outBypassed},
		{name: "request no-store", resp: maxAge, req: cc("no-store"), want: outBypassed},
		{name: "request NO-STORE upper case", resp: maxAge, req: cc("NO-STORE"), want: outBypassed},
		{name: "absolute-form target", resp: maxAge, target: "http://other.example/a?b=c", want: outStored},
		{name: "empty Host", resp: maxAge, mut: func(r *http.Request) { r.Host = "" }, want: outStored},
		{name: "Host with port and capitals", resp: maxAge, mut: func(r *http.Request) { r.Host = "EXAMPLE.com:8080" }, want: outStored},
		{name: "only-if-cached on a miss", resp: maxAge, req: cc("only-if-cached"), want: outOnlyIfCached},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := newOrigin("body", tc.resp...)
			c := New(tc.opts...)
			defer c.Close()
			h := c.Handler(o)
			var ws [2]*httptest.ResponseRecorder
			for i := range ws {
				target := tc.target
				if target == "" {
					target = "/"
				}
				var body io.Reader
				if tc.reqBody != "" {
					body = strings.NewReader(tc.reqBody)
				}
				r := httptest.NewRequest("GET", target, body)
				for j := 0; j+1 < len(tc.req); j += 2 {
					r.Header.Add(tc.req[j], tc.req[j+1])
				}
				if tc.mut != nil {
					tc.mut(r)
				}
				ws[i] = httptest.NewRecorder()
				require.NotPanics(t, func() { h.ServeHTTP(ws[i], r) }, "request %d", i)
			}
			checkOutcome(t, tc.want, ws, o.calls.Load())
		})
	}
}

// checkOutcome asserts that two responses and a handler call count are
// what want says.
func checkOutcome(t *testing.T, want outcome, ws [2]*httptest.ResponseRecorder, calls int64) {
	t.Helper()
	status := func(i int) string { return ws[i].Header().Get("Cache-Status") }
	if want == outOnlyIfCached {
		assert.Equal(t, http.StatusGatewayTimeout, ws[0].Code)
		assert.EqualValues(t, 0, calls)
		return
	}
	for i, w := range ws {
		assert.True(t, w.Code >= 200 && w.Code < 400, "request %d: status %d", i, w.Code)
		if w.Code == 200 {
			assert.Equal(t, "body", w.Body.String(), "request %d", i)
		}
	}
	switch want {
	case outStored:
		assert.Equal(t, statusStored, status(0))
		assert.True(t, isHit(ws[1]), "second Cache-Status %q", status(1))
		assert.EqualValues(t, 1, calls)
	case outUnstored:
		assert.Equal(t, statusMiss, status(0))
		assert.Equal(t, statusMiss, status(1))
		assert.EqualValues(t, 2, calls)
	case outRefilled:
		assert.Equal(t, statusStored, status(0))
		assert.False(t, isHit(ws[1]), "second Cache-Status %q", status(1))
		assert.EqualValues(t, 2, calls)
	case outBypassed:
		assert.Equal(t, statusBypass, status(0))
		assert.Equal(t, statusBypass, status(1))
		assert.EqualValues(t, 2, calls)
	}
}

// echo is a cacheable handler whose body shows everything about the request
// that may change a response: the key's parts and the headers a row varies on.
func echo(vary string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		if vary != "" {
			w.Header().Set("Vary", vary)
		}
		io.WriteString(w, echoed(r))
	}
}

func echoed(r *http.Request) string {
	return strings.Join([]string{
		"auth=" + strconv.Quote(strings.Join(r.Header.Values("Authorization"), "\x00")),
		"user=" + strconv.Quote(strings.Join(r.Header["X-User"], "\x00")),
		"user-present=" + strconv.FormatBool(r.Header["X-User"] != nil),
		"host=" + strconv.Quote(strings.ToLower(r.Host)),
		"path=" + strconv.Quote(r.URL.Path),
		"query=" + strconv.Quote(r.URL.RawQuery),
	}, " ")
}

// TestBadInputNoCrossUser checks that, of two requests that differ in what
// the response depends on, the second is never served the first's response.
func TestBadInputNoCrossUser(t *testing.T) {
	t.Parallel()
	type req struct {
		target string
		kv     []string
		host   *string
	}
	empty := ""
	tests := []struct {
		name string
		opts []Option
		vary string
		a, b req
	}{
		{name: "two Authorization values", a: req{"/", []string{"Authorization", "Bearer alice"}, nil}, b: req{"/", []string{"Authorization", "Bearer bob"}, nil}},
		{name: "Authorization then none", a: req{"/", []string{"Authorization", "Bearer alice"}, nil}, b: req{"/", nil, nil}},
		{name: "none then Authorization", a: req{"/", nil, nil}, b: req{"/", []string{"Authorization", "Bearer bob"}, nil}},
		{name: "varied header", vary: "X-User", a: req{"/", []string{"X-User", "alice"}, nil}, b: req{"/", []string{"X-User", "bob"}, nil}},
		{name: "varied header named in lower case", vary: "x-user", a: req{"/", []string{"X-User", "alice"}, nil}, b: req{"/", []string{"X-User", "bob"}, nil}},
		{name: "varied header absent then empty", vary: "X-User", a: req{"/", nil, nil}, b: req{"/", []string{"X-User", ""}, nil}},
		{name: "varied header empty then absent", vary: "X-User", a: req{"/", []string{"X-User", ""}, nil}, b: req{"/", nil, nil}},
		{name: "varied header on two lines then one", vary: "X-User", a: req{"/", []string{"X-User", "a", "X-User", "b"}, nil}, b: req{"/", []string{"X-User", "a,b"}, nil}},
		{name: "varied header among others", vary: "Accept, X-User", a: req{"/", []string{"X-User", "alice"}, nil}, b: req{"/", []string{"X-User", "bob"}, nil}},
		{name: "WithVary", opts: []Option{WithVary("X-User")}, a: req{"/", []string{"X-User", "alice"}, nil}, b: req{"/", []string{"X-User", "bob"}, nil}},
		{name: "absolute-form host", a: req{"http://evil.example/a", nil, nil}, b: req{"/a", nil, nil}},
		{name: "empty Host", a: req{"/a", nil, &empty}, b: req{"/a", nil, nil}},
		{name: "escaped ? in path", a: req{"/a?b", nil, nil}, b: req{"/a%3Fb", nil, nil}},
		{name: "escaped / in path", a: req{"/a%2Fb", nil, nil}, b: req{"/a/b", nil, nil}},
		{name: "non-UTF-8 query raw and escaped", a: req{"/?q=\xff", nil, nil}, b: req{"/?q=%ff", nil, nil}},
		{name: "non-UTF-8 path raw and escaped", a: req{"/\xe9", nil, nil}, b: req{"/%E9", nil, nil}},
		{name: "empty query", a: req{"/a?", nil, nil}, b: req{"/a", nil, nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := New(tc.opts...)
			defer c.Close()
			h := c.Handler(echo(tc.vary))
			for _, rq := range []req{tc.a, tc.b, tc.a, tc.b} {
				r := httptest.NewRequest("GET", rq.target, nil)
				for j := 0; j+1 < len(rq.kv); j += 2 {
					r.Header.Add(rq.kv[j], rq.kv[j+1])
				}
				if rq.host != nil {
					r.Host = *rq.host
				}
				want := echoed(r)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				assert.Equal(t, 200, w.Code)
				assert.Equal(t, want, w.Body.String(), "Cache-Status %q", w.Header().Get("Cache-Status"))
			}
		})
	}
}

// TestStorageRules checks which statuses and directives are stored.
func TestStorageRules(t *testing.T) {
	t.Parallel()
	ttl := []Option{WithTTL(time.Minute)}
	tests := []struct {
		name   string
		opts   []Option
		status int
		header []string
		stored bool
		ttl    string // the hit's Cache-Status ttl, if checked
	}{
		{"Vary star", nil, 200, []string{"Cache-Control", "max-age=60", "Vary", "*"}, false, ""},
		{"Vary star under WithTTL", ttl, 200, []string{"Vary", "*"}, false, ""},
		{"Set-Cookie", nil, 200, []string{"Cache-Control", "public, max-age=60", "Set-Cookie", "sid=alice"}, false, ""},
		{"Set-Cookie under WithTTL", ttl, 200, []string{"Set-Cookie", "sid=alice"}, false, ""},
		{"private", nil, 200, []string{"Cache-Control", "private, max-age=60"}, false, ""},
		{"private under WithTTL", ttl, 200, []string{"Cache-Control", "private"}, false, ""},
		{"Private capitalised", nil, 200, []string{"Cache-Control", "max-age=60, Private"}, false, ""},
		{"500 with max-age", nil, 500, []string{"Cache-Control", "max-age=60"}, false, ""},
		{"502 with max-age", nil, 502, []string{"Cache-Control", "max-age=60"}, false, ""},
		{"503 with s-maxage", nil, 503, []string{"Cache-Control", "s-maxage=60"}, false, ""},
		{"504 with max-age", nil, 504, []string{"Cache-Control", "max-age=60"}, false, ""},
		{"500 under WithTTL", ttl, 500, nil, false, ""},
		{"404 plain", nil, 404, nil, false, ""},
		{"404 under WithTTL", ttl, 404, nil, false, ""},
		{"404 with max-age", nil, 404, []string{"Cache-Control", "max-age=60"}, true, "60"},
		{"405 under WithTTL", ttl, 405, nil, false, ""},
		{"410 under WithTTL", ttl, 410, nil, false, ""},
		{"410 with max-age", nil, 410, []string{"Cache-Control", "max-age=60"}, true, "60"},
		{"414 under WithTTL", ttl, 414, nil, false, ""},
		{"501 under WithTTL", ttl, 501, nil, false, ""},
		{"200 under WithTTL", ttl, 200, nil, true, "60"},
		{"203 under WithTTL", ttl, 203, nil, true, "60"},
		{"204 under WithTTL", ttl, 204, nil, true, "60"},
		{"300 under WithTTL", ttl, 300, nil, true, "60"},
		{"301 under WithTTL", ttl, 301, []string{"Location", "/elsewhere"}, true, "60"},
		{"308 under WithTTL", ttl, 308, []string{"Location", "/elsewhere"}, true, "60"},
		{"302 under WithTTL", ttl, 302, []string{"Location", "/elsewhere"}, false, ""},
		{"307 under WithTTL", ttl, 307, []string{"Location", "/elsewhere"}, false, ""},
		{"302 with max-age", nil, 302, []string{"Cache-Control", "max-age=60", "Location", "/elsewhere"}, true, "60"},
		{"200 without freshness or WithTTL", nil, 200, nil, false, ""},
		{"s-maxage wins over max-age=0", nil, 200, []string{"Cache-Control", "max-age=0, s-maxage=60"}, true, "60"},
		{"s-maxage wins over a longer max-age", nil, 200, []string{"Cache-Control", "max-age=600, s-maxage=60"}, true, "60"},
		{"s-maxage=0 wins over max-age", nil, 200, []string{"Cache-Control", "max-age=60, s-maxage=0"}, false, ""},
		{"max-age wins over Expires", nil, 200, []string{"Cache-Control", "max-age=60", "Expires", "Thu, 01 Jan 1970 00:00:00 GMT"}, true, "60"},
		{"WithTTL does not override max-age", ttl, 200, []string{"Cache-Control", "max-age=30"}, true, "30"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := newOrigin("body", tc.header...)
			o.status = tc.status
			if !bodyAllowed(tc.status) {
				o.body = ""
			}
			c := New(tc.opts...)
			defer c.Close()
			h := c.Handler(o)
			first := do(t, h, "GET", "/")
			second := do(t, h, "GET", "/")
			assert.Equal(t, tc.status, first.Code)
			assert.Equal(t, tc.status, second.Code)
			assert.Equal(t, tc.stored, isHit(second), "second Cache-Status %q", second.Header().Get("Cache-Status"))
			assert.EqualValues(t, map[bool]int64{true: 1, false: 2}[tc.stored], o.calls.Load())
			if tc.ttl != "" {
				assert.Equal(t, "httpcache; hit; ttl="+tc.ttl, second.Header().Get("Cache-Status"))
			}
			if !tc.stored {
				assert.Empty(t, second.Header().Get("Age"), "a response not from the cache has no Age")
			}
		})
	}
}

// TestNoCacheRevalidates checks that a no-cache response with an ETag is
// stored and revalidated on every use: the handler sees If-None-Match, and
// its 304 becomes the entry's 200 for a client that did not ask
// conditionally.
func TestNoCacheRevalidates(t *testing.T) {
	t.Parallel()
	var seen []string // If-None-Match of each call, in order; handler runs on the test goroutine
	h, calls := counted(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("If-None-Match"))
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, "body")
	})
	c := New()
	defer c.Close()
	ch := c.Handler(h)

	checkResponse(t, do(t, ch, "GET", "/"), 200, "body", statusStored)
	for i := range 2 {
		w := do(t, ch, "GET", "/")
		assert.Equal(t, 200, w.Code, "use %d", i)
		assert.Equal(t, "body", w.Body.String(), "use %d", i)
		assert.Equal(t, `"v1"`, w.Header().Get("ETag"))
		assert.False(t, isHit(w), "a no-cache entry is never a plain hit")
	}
	w := do(t, ch, "GET", "/", "If-None-Match", `"v1"`)
	assert.Equal(t, http.StatusNotModified, w.Code, "the client's own condition is answered from the revalidated entry")
	assert.Empty(t, w.Body.String())
	assert.EqualValues(t, 4, calls.Load())
	assert.Equal(t, []string{"", `"v1"`, `"v1"`, `"v1"`}, seen)
}

func TestHopByHopNotReplayed(t *testing.T) {
	t.Parallel()
	o := newOrigin("x", "Cache-Control", "max-age=60",
		"Connection", "keep-alive, x-conn-field", "Connection", "X-Other-Conn",
		"Keep-Alive", "timeout=5", "X-Conn-Field", "secret", "X-Other-Conn", "secret",
		"Proxy-Connection", "keep-alive", "Te", "trailers", "X-Kept", "yes")
	c := New()
	defer c.Close()
	h := c.Handler(o)
	do(t, h, "GET", "/")
	w := do(t, h, "GET", "/")
	require.True(t, isHit(w))
	for _, name := range []string{"Connection", "Keep-Alive", "X-Conn-Field", "X-Other-Conn", "Proxy-Connection", "Te"} {
		assert.Empty(t, w.Header().Values(name), name)
	}
	assert.Equal(t, "yes", w.Header().Get("X-Kept"))
}

func TestHEADMissStoresNothing(t *testing.T) {
	t.Parallel()
	h, calls := counted(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		if r.Method != http.MethodHead {
			io.WriteString(w, "full body")
		}
	})
	c := New()
	defer c.Close()
	ch := c.Handler(h)

	head := do(t, ch, "HEAD", "/")
	assert.Equal(t, 200, head.Code)
	assert.Equal(t, statusMiss, head.Header().Get("Cache-Status"))
	checkResponse(t, do(t, ch, "GET", "/"), 200, "full body", statusStored)
	checkResponse(t, do(t, ch, "GET", "/"), 200, "full body", "httpcache; hit; ttl=60")
	head = do(t, ch, "HEAD", "/")
	assert.Equal(t, "9", head.Header().Get("Content-Length"))
	assert.True(t, isHit(head))
	assert.EqualValues(t, 2, calls.Load())
}

// TestHandlerPanicNotStored checks that a handler's panic reaches the
// caller of ServeHTTP, nothing is stored, and the key is not wedged.
func TestHandlerPanicNotStored(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		before func(w http.ResponseWriter)
	}{
		{"before writing", func(w http.ResponseWriter) {}},
		{"after WriteHeader", func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) }},
		{"after a partial body", func(w http.ResponseWriter) { io.WriteString(w, "part") }},
		{"after a flush", func(w http.ResponseWriter) { io.WriteString(w, "part"); w.(http.Flusher).Flush() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, calls := counted(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=60")
				if r.Header.Get("X-Panic") != "" {
					tc.before(w)
					panic("boom")
				}
				io.WriteString(w, "whole")
			})
			c := New(WithLockTimeout(time.Hour)) // a wedged key would hold the next request
			defer c.Close()
			ch := c.Handler(h)

			recovered := func() (v any) {
				defer func() { v = recover() }()
				r := httptest.NewRequest("GET", "/", nil)
				r.Header.Set("X-Panic", "1")
				ch.ServeHTTP(httptest.NewRecorder(), r)
				return nil
			}()
			assert.Equal(t, "boom", recovered, "the panic reaches net/http")

			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			w := httptest.NewRecorder()
			ch.ServeHTTP(w, httptest.NewRequest("GET", "/", nil).WithContext(ctx))
			checkResponse(t, w, 200, "whole", statusStored)
			assert.EqualValues(t, 2, calls.Load())
		})
	}
}

// errorStore is a Store whose Get and Set fail as configured.
type errorStore struct {
	getErr, setErr error
	entries        map[string]*Entry // used when the call does not fail; one goroutine only
}

func (s *errorStore) Get(_ context.Context, key string) (*Entry, error) {
	if s.getErr != nil {
		return nil, s.getErr
	}
	return s.entries[key], nil
}

func (s *errorStore) Set(_ context.Context, key string, e *Entry) error {
	if s.setErr != nil {
		return s.setErr
	}
	s.entries[key] = e
	return nil
}

// TestStoreErrorsFailOpen checks that a failing store never fails a
// request: the handler serves it and the error reaches the logger.
func TestStoreErrorsFailOpen(t *testing.T) {
	t.Parallel()
	errGet := errors.New("get: connection refused")
	errSet := errors.New("set: out of memory")
	tests := []struct {
		name           string
		getErr, setErr error
		logged         []string
	}{
		{"Get fails", errGet, nil, []string{"httpcache: store get", errGet.Error()}},
		{"Set fails", nil, errSet, []string{"httpcache: store set", errSet.Error()}},
		{"both fail", errGet, errSet, []string{"httpcache: store get", "httpcache: store set", errGet.Error(), errSet.Error()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var log lockedBuffer
			store := &errorStore{getErr: tc.getErr, setErr: tc.setErr, entries: map[string]*Entry{}}
			o := newOrigin("body", "Cache-Control", "max-age=60")
			c := New(WithStore(store), WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
			defer c.Close()
			h := c.Handler(o)
			for i := range 2 {
				w := do(t, h, "GET", "/")
				assert.Equal(t, 200, w.Code, "request %d", i)
				assert.Equal(t, "body", w.Body.String(), "request %d", i)
			}
			assert.EqualValues(t, 2, o.calls.Load(), "every request is served by the handler")
			for _, s := range tc.logged {
				assert.Contains(t, log.String(), s)
			}
			assert.Contains(t, log.String(), "level=ERROR")
		})
	}
}
