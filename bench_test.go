package httpcache

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks of the request path. Every case of BenchmarkHandler runs
// beside "baseline", a handler writing the same pre-rendered bytes with the
// same header fields and no cache, so that a hit's overhead is read from one
// run. Names are BenchmarkHandler/<case>/size=<1k|64k>/writer=<discard|recorder>:
// writer=discard is the cheapest ResponseWriter (the cache's own cost shows),
// writer=recorder is httptest.NewRecorder (what a user's test sees). To put
// the cases side by side, name the case level for benchstat:
//
//	go test -run '^$' -bench 'BenchmarkHandler$' -count 6 | tee new.txt
//	sed -E 's#^(BenchmarkHandler[A-Za-z]*)/([a-z-]+)/#\1/case=\2/#' new.txt >cases.txt
//	benchstat -col /case -row /size,/writer cases.txt

// discardWriter is the cheapest ResponseWriter: a reused header map and a
// byte count, so that benchmarks measure the handler path, not a recorder.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (d *discardWriter) Header() http.Header { return d.h }
func (d *discardWriter) WriteHeader(code int) {
	if d.status == 0 {
		d.status = code
	}
}
func (d *discardWriter) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }
func (d *discardWriter) reset()                      { clear(d.h); d.status, d.n = 0, 0 }

// benchWriter hands out the ResponseWriter of each request and reports what
// the last one received.
type benchWriter interface {
	next() http.ResponseWriter
	written() (n int, h http.Header)
}

type discardBench struct{ w discardWriter }

func (d *discardBench) next() http.ResponseWriter {
	if d.w.h == nil {
		d.w.h = http.Header{}
	}
	d.w.reset()
	return &d.w
}
func (d *discardBench) written() (int, http.Header) { return d.w.n, d.w.h }

// recorderBench makes a new httptest.ResponseRecorder per request.
type recorderBench struct{ w *httptest.ResponseRecorder }

func (r *recorderBench) next() http.ResponseWriter {
	r.w = httptest.NewRecorder()
	return r.w
}
func (r *recorderBench) written() (int, http.Header) { return r.w.Body.Len(), r.w.Header() }

var benchWriters = []struct {
	name string
	make func() benchWriter
}{
	{"writer=discard", func() benchWriter { return new(discardBench) }},
	{"writer=recorder", func() benchWriter { return new(recorderBench) }},
}

var benchSizes = []struct {
	name string
	n    int
}{{"size=1k", 1 << 10}, {"size=64k", 64 << 10}}

// prerendered is the baseline: a handler writing the same bytes the cache
// replays, with the same header fields but Age and Cache-Status. It sets
// Cache-Control and Content-Type as handlers do (a new slice each); Date and
// Content-Length, which net/http would add on the wire without allocating,
// are set from slices rendered once.
func prerendered(body []byte, cc string) http.Handler {
	date := []string{time.Now().UTC().Format(http.TimeFormat)}
	length := []string{strconv.Itoa(len(body))}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Cache-Control"] = []string{cc}
		h["Content-Type"] = []string{"text/html; charset=utf-8"}
		h["Content-Length"] = length
		h["Date"] = date
		w.Write(body)
	})
}

// tagged labels its responses with three tags: two through Tag, one through
// a Cache-Tag field.
func tagged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Tag(r.Context(), "user:42", "post:7")
		w.Header()["Cache-Tag"] = []string{"feed"}
		h.ServeHTTP(w, r)
	})
}

func withETag(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Etag"] = []string{`"v"`}
		h.ServeHTTP(w, r)
	})
}

// benchTarget is what a case serves: a handler, the requests it cycles
// through (one set per worker), and what each response must say.
type benchTarget struct {
	h      http.Handler
	status string // a prefix of every response's Cache-Status; "" for none
	reqs   func(worker int) []*http.Request
	cycle  func() // run before each pass over the requests; nil if none
	settle func() // run, off the clock, before each serial pass; nil if none
	done   func()
}

// benchCase builds the target of one case for a body.
type benchCase struct {
	name  string
	build func(body []byte) *benchTarget
}

var handlerCases = []benchCase{
	{"baseline", buildBaseline},
	{"hit", func(body []byte) *benchTarget { return buildHit(prerendered(body, "max-age=600")) }},
	{"hit-tagged", func(body []byte) *benchTarget { return buildHit(tagged(prerendered(body, "max-age=600"))) }},
	{"stale", buildStale},
	{"stale-first", buildStaleFirst},
	{"miss", buildMiss},
	{"bypass", buildBypass},
}

// BenchmarkHandler measures the request path through the cache beside the
// baseline of a handler writing the same pre-rendered bytes, in one run.
//
//   - hit: a fresh entry with the reserved tags only; hit-tagged: the
//     same with three more tags, so the difference is the cost of checking
//     three more tag versions.
//   - stale: an entry inside its stale-while-revalidate window whose refresh
//     is already running (the steady state of a hot key).
//   - stale-first: the first request after expiry, which starts the refresh.
//   - miss: a fill through the flight and into the store.
//   - bypass: a request with Authorization, straight to the handler.
//   - coalesced: 64 concurrent requests for one cold key whose handler takes
//     2ms; it reports handler calls and wall time over the handler's latency.
func BenchmarkHandler(b *testing.B) {
	for _, tc := range handlerCases {
		forSizesAndWriters(b, tc.name, func(b *testing.B, size int, w func() benchWriter) {
			t := tc.build(bytes.Repeat([]byte("x"), size))
			defer t.done()
			benchSerial(b, t, w(), size)
		})
	}
	forSizesAndWriters(b, "coalesced", func(b *testing.B, size int, w func() benchWriter) {
		benchCoalesced(b, bytes.Repeat([]byte("x"), size), 64, 2*time.Millisecond, w)
	})
}

// BenchmarkHandlerParallel is BenchmarkHandler under contention, with
// RunParallel. coalesced is left out: each of its operations is already 64
// concurrent requests.
func BenchmarkHandlerParallel(b *testing.B) {
	for _, tc := range handlerCases {
		forSizesAndWriters(b, tc.name, func(b *testing.B, size int, w func() benchWriter) {
			t := tc.build(bytes.Repeat([]byte("x"), size))
			defer t.done()
			benchParallel(b, t, w, size)
		})
	}
}

func forSizesAndWriters(b *testing.B, name string, f func(b *testing.B, size int, w func() benchWriter)) {
	for _, size := range benchSizes {
		for _, w := range benchWriters {
			b.Run(name+"/"+size.name+"/"+w.name, func(b *testing.B) { f(b, size.n, w.make) })
		}
	}
}

// newBenchCache returns a cache whose tag versions hold 10,000 unrelated
// tags, so that version checks look tags up in a populated map.
func newBenchCache(opts ...Option) *Cache {
	c := New(opts...)
	for i := range 10000 {
		c.Invalidate(context.Background(), fmt.Sprintf("other:%d", i))
	}
	return c
}

// oneRequest returns a reqs func giving every worker a GET of target.
func oneRequest(target string) func(int) []*http.Request {
	return func(int) []*http.Request { return []*http.Request{httptest.NewRequest("GET", target, nil)} }
}

// buildBaseline serves prerendered without a cache, beside an idle cache
// like the others' so that the heap the garbage collector scans is the same:
// the comparison is that of a raw and a cached endpoint in one process.
func buildBaseline(body []byte) *benchTarget {
	c := newBenchCache()
	return &benchTarget{h: prerendered(body, "max-age=600"), reqs: oneRequest("/"), done: func() { c.Close() }}
}

func buildHit(origin http.Handler) *benchTarget {
	c := newBenchCache()
	h := c.Handler(origin)
	warm(h, "/")
	return &benchTarget{h: h, status: "httpcache; hit; ttl=", reqs: oneRequest("/"), done: func() { c.Close() }}
}

// buildStale serves an entry past its lifetime whose refresh never ends
// before the benchmark does: every request is a stale hit that finds the
// refresh running.
func buildStale(body []byte) *benchTarget {
	c := newBenchCache()
	block := make(chan struct{})
	origin := withETag(prerendered(body, "max-age=0, stale-while-revalidate=600"))
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") != "" {
			<-block // the refresh: conditional, since the entry has an ETag
		}
		origin.ServeHTTP(w, r)
	}))
	warm(h, "/") // fills
	warm(h, "/") // serves stale, starts the refresh that blocks
	done := func() { close(block); c.Close() }
	return &benchTarget{h: h, status: "httpcache; hit; ttl=-", reqs: oneRequest("/"), done: done}
}

// buildStaleFirst cycles over 256 keys whose entries are always stale, and
// whose refreshes (a 304) end before the key comes round again: every
// request is the first after expiry and starts a refresh.
func buildStaleFirst(body []byte) *benchTarget {
	c := newBenchCache()
	origin := withETag(prerendered(body, "max-age=0, stale-while-revalidate=600"))
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v"` {
			w.Header()["Cache-Control"] = []string{"max-age=0, stale-while-revalidate=600"}
			w.WriteHeader(http.StatusNotModified)
			return
		}
		origin.ServeHTTP(w, r)
	}))
	reqs := keyRequests(256)
	for w := range runtime.GOMAXPROCS(0) { // RunParallel's workers

		for _, r := range reqs(w) {
			warm(h, r.URL.Path)
		}
	}
	done := func() { c.Wait(); c.Close() }
	return &benchTarget{h: h, status: "httpcache; hit; ttl=-", reqs: reqs, settle: c.Wait, done: done}
}

// buildMiss cycles over 1024 keys and invalidates them all before each
// pass, so that every request fills.
func buildMiss(body []byte) *benchTarget {
	c := newBenchCache(WithStore(NewMemoryStore(256 << 20)))
	h := c.Handler(prerendered(body, "max-age=600"))
	cycle := func() { c.InvalidateAll(context.Background()) }
	return &benchTarget{h: h, status: "httpcache; fwd=uri-miss", reqs: keyRequests(1024), cycle: cycle, done: func() { c.Close() }}
}

func buildBypass(body []byte) *benchTarget {
	c := newBenchCache()
	reqs := func(int) []*http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer x")
		return []*http.Request{r}
	}
	return &benchTarget{h: c.Handler(prerendered(body, "max-age=600")), status: "httpcache; fwd=bypass", reqs: reqs, done: func() { c.Close() }}
}

// keyRequests returns n GETs of distinct keys for each worker.
func keyRequests(n int) func(worker int) []*http.Request {
	return func(worker int) []*http.Request {
		reqs := make([]*http.Request, n)
		for i := range reqs {
			reqs[i] = httptest.NewRequest("GET", fmt.Sprintf("/w%d/%d", worker, i), nil)
		}
		return reqs
	}
}

func warm(h http.Handler, target string) {
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", target, nil))
}

// benchSerial serves t's requests in turn, running t.cycle and t.settle
// with the timer stopped before each pass.
func benchSerial(b *testing.B, t *benchTarget, w benchWriter, size int) {
	reqs := t.reqs(0)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	i := 0
	for b.Loop() {
		if i%len(reqs) == 0 && (t.cycle != nil || t.settle != nil) {
			b.StopTimer()
			runIfSet(t.settle)
			runIfSet(t.cycle)
			b.StartTimer()
		}
		t.h.ServeHTTP(w.next(), reqs[i%len(reqs)])
		i++
	}
	if err := checkWritten(w, size, t.status); err != nil {
		b.Error(err)
	}
}

// benchParallel is benchSerial under RunParallel; t.cycle runs on the
// clock, by each worker before each of its passes, and t.settle not at all
// (waiting for the other workers' refreshes could take as long as they run).
func benchParallel(b *testing.B, t *benchTarget, newWriter func() benchWriter, size int) {
	var workers atomic.Int64
	var failure atomic.Pointer[error]
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.RunParallel(func(pb *testing.PB) {
		reqs := t.reqs(int(workers.Add(1)) - 1)
		w := newWriter()
		i := 0
		for ; pb.Next(); i++ {
			if t.cycle != nil && i%len(reqs) == 0 {
				t.cycle()
			}
			t.h.ServeHTTP(w.next(), reqs[i%len(reqs)])
		}
		if i == 0 {
			return // this worker got no iteration: nothing to check
		}
		if err := checkWritten(w, size, t.status); err != nil {
			failure.Store(&err)
		}
	})
	if err := failure.Load(); err != nil {
		b.Error(*err)
	}
}

func runIfSet(f func()) {
	if f != nil {
		f()
	}
}

// checkWritten reports an error unless the last response had n bytes and a
// Cache-Status starting with status (or none, for an empty status).
func checkWritten(w benchWriter, n int, status string) error {
	got, h := w.written()
	cs := h.Get("Cache-Status")
	switch {
	case got != n:
		return fmt.Errorf("wrote %d bytes, want %d", got, n)
	case status == "" && cs != "":
		return fmt.Errorf("Cache-Status %q, want none", cs)
	case !strings.HasPrefix(cs, status):
		return fmt.Errorf("Cache-Status %q, want %q...", cs, status)
	}
	return nil
}
