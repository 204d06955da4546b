package httpcache

import (
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestRegression7WaitReturnsBeforeRefillEnds: Wait (and Close) return while a
// write-through refill still holds its flight: refill releases it after
// refresh's bg.done. A Refill of the same target right after Wait is then
// skipped (write-through silently lost), and Close leaves a goroutine behind.
func TestRegression7WaitReturnsBeforeRefillEnds(t *testing.T) {
	t.Parallel()
	c := New()
	defer c.Close()
	entered, proceed := make(chan struct{}), make(chan struct{})
	var gets atomic.Int64
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			_ = Refill(r.Context(), "/a")
			return
		}
		if gets.Add(1) == 1 {
			close(entered)
			<-proceed
		}
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "a")
	}))
	do(t, h, "POST", "/a")
	<-entered
	// Hold the refreshes group's lock: the refill's release of its flight
	// blocks on it, as a slow scheduler would delay it.
	c.core.refreshes.mu.Lock()
	close(proceed)
	waited := make(chan struct{})
	go func() { c.Wait(); close(waited) }()
	select {
	case <-waited:
		n := len(c.core.refreshes.m)
		c.core.refreshes.mu.Unlock()
		t.Fatalf("Wait returned while the refill still held its flight (%d flights)", n)
	case <-time.After(300 * time.Millisecond):
	}
	c.core.refreshes.mu.Unlock()
	<-waited
}
