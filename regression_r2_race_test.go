package httpcache

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Stress for -race: concurrent fills, flushes, hang-ups, 304s, refreshes,
// refills and invalidations on a few keys. It asserts nothing but the race
// detector and goleak (TestMain).
func TestRegression2RaceStress(t *testing.T) {
	t.Parallel()
	c := New(WithLogger(discardLogger()), WithLockTimeout(50*time.Millisecond),
		WithStaleWhileRevalidate(time.Second), WithStaleIfError(time.Second), WithRefreshTimeout(200*time.Millisecond))
	defer c.Close()
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Tag(r.Context(), "k"+r.URL.Query().Get("k"))
		if r.Method == "POST" {
			Invalidate(r.Context(), "k1")
			Refill(r.Context(), "/x?k=1", "/x?k=2")
			return
		}
		switch r.URL.Query().Get("m") {
		case "flush":
			w.Header().Set("Cache-Control", "max-age=1")
			io.WriteString(w, "a")
			http.NewResponseController(w).Flush()
			io.WriteString(w, "b")
		case "304":
			w.Header().Set("Cache-Control", "max-age=0")
			w.Header().Set("Etag", `"e"`)
			if r.Header.Get("If-None-Match") == `"e"` {
				w.WriteHeader(304)
				return
			}
			io.WriteString(w, "c")
		case "err":
			http.Error(w, "x", http.StatusServiceUnavailable)
		default:
			w.Header().Set("Cache-Control", "max-age=1")
			runtime.Gosched()
			io.WriteString(w, "d")
		}
	}))
	var wg sync.WaitGroup
	modes := []string{"", "flush", "304", "err"}
	for i := range 400 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			method := "GET"
			if i%37 == 0 {
				method = "POST"
			}
			target := fmt.Sprintf("/x?k=%d&m=%s", i%3, modes[i%4])
			ctx, cancel := context.WithCancel(context.Background())
			if i%5 == 0 {
				go func() { runtime.Gosched(); cancel() }()
			}
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, target, nil).WithContext(ctx))
			cancel()
			if i%50 == 0 {
				c.Invalidate(context.Background(), "k2")
			}
		}()
	}
	wg.Wait()
	c.Wait()
}
