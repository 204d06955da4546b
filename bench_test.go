package httpcache

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

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

// prerendered is the baseline: a handler writing the same bytes the cache
// replays, with the same header fields.
func prerendered(body []byte, cc string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Cache-Control"] = []string{cc}
		h["Content-Type"] = []string{"text/html; charset=utf-8"}
		w.Write(body)
	})
}

var benchSizes = []struct {
	name string
	n    int
}{{"size=1k", 1 << 10}, {"size=64k", 64 << 10}}

// BenchmarkHandler measures the request path through the cache beside the
// baseline of a handler writing the same pre-rendered bytes, in one run.
func BenchmarkHandler(b *testing.B) {
	for _, size := range benchSizes {
		body := bytes.Repeat([]byte("x"), size.n)
		b.Run("baseline/"+size.name, func(b *testing.B) { benchServe(b, prerendered(body, "max-age=600"), "/", size.n) })
		b.Run("hit/"+size.name, func(b *testing.B) {
			c := New(WithMaxBodyBytes(1 << 20))
			defer c.Close()
			h := c.Handler(prerendered(body, "max-age=600"))
			warm(h, "/")
			benchServe(b, h, "/", size.n)
		})
		b.Run("stale/"+size.name, func(b *testing.B) {
			c := New(WithMaxBodyBytes(1 << 20))
			defer c.Close()
			// An ETag keeps the max-age=0 entry; the refresh it starts is one
			// per key, so nearly every iteration is a stale hit.
			h := c.Handler(withETag(prerendered(body, "max-age=0, stale-while-revalidate=600")))
			warm(h, "/")
			benchServe(b, h, "/", size.n)
			c.Wait()
		})
		b.Run("miss/"+size.name, func(b *testing.B) {
			c := New(WithMaxBodyBytes(1<<20), WithStore(NewMemoryStore(1<<30)))
			defer c.Close()
			h := c.Handler(prerendered(body, "max-age=600"))
			reqs := make([]*http.Request, 1024)
			for i := range reqs {
				reqs[i] = httptest.NewRequest("GET", fmt.Sprintf("/%d", i), nil)
			}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			b.SetBytes(int64(size.n))
			i := 0
			for b.Loop() {
				if i%len(reqs) == 0 {
					b.StopTimer()
					c.InvalidateAll(b.Context())
					b.StartTimer()
				}
				w.reset()
				h.ServeHTTP(w, reqs[i%len(reqs)])
				i++
			}
		})
		b.Run("bypass/"+size.name, func(b *testing.B) {
			c := New()
			defer c.Close()
			h := c.Handler(prerendered(body, "max-age=600"))
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "Bearer x")
			benchRequest(b, h, r, size.n)
		})
	}
}

// BenchmarkHandlerParallel is BenchmarkHandler's baseline and hit under
// contention.
func BenchmarkHandlerParallel(b *testing.B) {
	for _, size := range benchSizes {
		body := bytes.Repeat([]byte("x"), size.n)
		b.Run("baseline/"+size.name, func(b *testing.B) { benchParallel(b, prerendered(body, "max-age=600"), size.n) })
		b.Run("hit/"+size.name, func(b *testing.B) {
			c := New(WithMaxBodyBytes(1 << 20))
			defer c.Close()
			h := c.Handler(prerendered(body, "max-age=600"))
			warm(h, "/")
			benchParallel(b, h, size.n)
		})
	}
}

func withETag(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Etag"] = []string{`"v"`}
		h.ServeHTTP(w, r)
	})
}

func warm(h http.Handler, target string) {
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", target, nil))
}

func benchServe(b *testing.B, h http.Handler, target string, n int) {
	benchRequest(b, h, httptest.NewRequest("GET", target, nil), n)
}

func benchRequest(b *testing.B, h http.Handler, r *http.Request, n int) {
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.SetBytes(int64(n))
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
	}
	if w.n != n {
		b.Errorf("wrote %d bytes, want %d", w.n, n)
	}
}

func benchParallel(b *testing.B, h http.Handler, n int) {
	b.ReportAllocs()
	b.SetBytes(int64(n))
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest("GET", "/", nil)
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			w.reset()
			h.ServeHTTP(w, r)
		}
	})
}
