package httpcache

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks of concurrent misses and of invalidation.

// slowOrigin answers after latency with body, fresh for 10 minutes, and
// counts its calls and the time they took.
type slowOrigin struct {
	latency time.Duration
	body    []byte
	calls   atomic.Int64
	busy    atomic.Int64 // nanoseconds spent in calls, sleep overshoot included
}

func (o *slowOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	o.calls.Add(1)
	time.Sleep(o.latency) // the handler's own latency: the workload measured
	w.Header()["Cache-Control"] = []string{"max-age=600"}
	w.Write(o.body)
	o.busy.Add(int64(time.Since(start)))
}

// ownLatency is the mean time a call took.
func (o *slowOrigin) ownLatency() float64 {
	return float64(o.busy.Load()) / float64(o.calls.Load())
}

// benchCoalesced sends n concurrent requests for one key per operation,
// made cold again before each, to a handler taking latency. It reports the
// handler calls per operation and the wall time of an operation over the
// handler's own latency as measured inside it (time.Sleep overshoots).
func benchCoalesced(b *testing.B, body []byte, n int, latency time.Duration, newWriter func() benchWriter) {
	o := &slowOrigin{latency: latency, body: body}
	c := New()
	defer c.Close()
	h := c.Handler(o)
	writers, reqs := make([]benchWriter, n), make([]*http.Request, n)
	for i := range n {
		writers[i], reqs[i] = newWriter(), httptest.NewRequest("GET", "/cold", nil)
	}
	b.ReportAllocs()
	b.SetBytes(int64(n * len(body)))
	var wall time.Duration
	ops := 0
	for b.Loop() {
		b.StopTimer()
		c.InvalidateAll(context.Background())
		b.StartTimer()
		wall += stampedeOnce(h, writers, reqs)
		ops++
	}
	b.ReportMetric(float64(o.calls.Load())/float64(ops), "calls/op")
	b.ReportMetric(float64(wall)/float64(ops)/o.ownLatency(), "wall/latency")
	for _, w := range writers {
		if err := checkWritten(w, len(body), "httpcache;"); err != nil {
			b.Error(err)
			return
		}
	}
}

// stampedeOnce serves reqs[i] to writers[i], all at once, and returns the
// wall time until the last response.
func stampedeOnce(h http.Handler, writers []benchWriter, reqs []*http.Request) time.Duration {
	var wg sync.WaitGroup
	start := time.Now()
	for i := range reqs {
		wg.Go(func() { h.ServeHTTP(writers[i].next(), reqs[i]) })
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkStampede is the budget line "1000 concurrent cold requests: one
// handler call, wall time within 1.2× the handler's own latency" (20ms).
func BenchmarkStampede(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			body := bytes.Repeat([]byte("x"), size.n)
			benchCoalesced(b, body, 1000, 20*time.Millisecond, func() benchWriter { return new(discardBench) })
		})
	}
}

// BenchmarkInvalidate measures Cache.Invalidate of 1 and of 10 tags, with
// 10,000 other tags known.
func BenchmarkInvalidate(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("tags=%d", n), func(b *testing.B) {
			c := newBenchCache()
			defer c.Close()
			tags := make([]string, n)
			for i := range tags {
				tags[i] = fmt.Sprintf("post:%d", i)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				c.Invalidate(ctx, tags...)
			}
		})
	}
}
