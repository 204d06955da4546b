package httpcache

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// flight is one fill in progress; waiters block on done.
type flight struct {
	done chan struct{} // closed by release

	// Set once, before done is closed.
	entry *Entry // the stored entry, when it can be shared
	retry bool   // the fill failed; waiters should try the flight again

	rerun bool // guarded by group.mu: a refill was asked for while this one ran
}

// group is the set of fills in progress, one per key, in the manner of
// x/sync/singleflight. Unlike groupcache's own singleflight, a leader that
// panics releases its key (golang/groupcache#139): release runs from a
// deferred call.
type group struct {
	mu sync.Mutex         // guards m
	m  map[string]*flight // nil until the first join
}

// join returns the flight for key and whether the caller leads it: a
// leader must call release exactly once.
func (g *group) join(key string) (f *flight, leader bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.m[key]; ok {
		return f, false
	}
	if g.m == nil {
		g.m = make(map[string]*flight)
	}
	f = &flight{done: make(chan struct{})}
	g.m[key] = f
	return f, true
}

// release ends f, handing entry (or a retry) to its waiters. Only the first
// call for a flight has an effect, so a leader may release early (its
// response turned out not shareable) and again when it returns.
func (g *group) release(key string, f *flight, entry *Entry, retry bool) {
	if f == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m[key] != f {
		return
	}
	delete(g.m, key)
	f.entry, f.retry = entry, retry
	close(f.done)
}

// joinRefill is join for write-through refills: a caller that finds a
// refill of key running asks it to run once more when it ends, since that
// refill may predate the caller's write and be refused its store.
func (g *group) joinRefill(key string) (f *flight, leader bool) {
	g.mu.Lock()
	if f, ok := g.m[key]; ok {
		f.rerun = true
		g.mu.Unlock()
		return f, false
	}
	g.mu.Unlock()
	return g.join(key)
}

// releaseRefill ends the refill flight f and reports true, unless a rerun
// was asked for: then it clears the request and reports false.
func (g *group) releaseRefill(key string, f *flight) bool {
	g.mu.Lock()
	if g.m[key] == f && f.rerun {
		f.rerun = false
		g.mu.Unlock()
		return false
	}
	g.mu.Unlock()
	g.release(key, f, nil, false)
	return true
}

// awaited is the outcome of waiting for another request's fill.
type awaited int

const (
	awaitServed awaited = iota // the waiter's response is written (or its client left)
	awaitRetry                 // the fill failed: try the flight again
	awaitRekey                 // the fill taught the key's Vary: look up again
	awaitAlone                 // run the handler without the flight
)

// await waits for f on behalf of r, for at most the lock timeout, and
// serves the shared entry if it suits r.
func (c *Cache) await(w http.ResponseWriter, r *http.Request, l *lookup, f *flight) awaited {
	t := time.NewTimer(c.cfg.lockTimeout)
	defer t.Stop()
	select {
	case <-f.done:
	case <-r.Context().Done():
		return awaitServed
	case <-t.C:
		if c.staleIfErrorOK(r.Context(), l) {
			c.serveStaleEntry(w, r, l, "lock-timeout")
			return awaitServed
		}
		return awaitAlone
	}
	e := f.entry
	switch {
	case f.retry:
		return awaitRetry
	case e == nil:
		return awaitAlone
	case !c.varyMatches(e, r.Header):
		return awaitRekey
	case !c.current(r.Context(), e):
		return awaitRetry
	}
	c.serveEntry(w, r, e, now(), statusCollapse)
	l.served(e)
	return awaitServed
}

// serveStaleEntry serves l.stale because its refill failed; detail says
// how. The caller has checked staleIfErrorOK.
func (c *Cache) serveStaleEntry(w http.ResponseWriter, r *http.Request, l *lookup, detail string) {
	t := now()
	ttl := l.stale.Lifetime - l.stale.age(t)
	c.serveEntry(w, r, l.stale, t, hitStatus(min(ttl, 0))+"; detail="+detail)
	l.served(l.stale)
}

// staleIfErrorOK reports whether l.stale may answer a failed fill; see
// canServeStale.
func (c *Cache) staleIfErrorOK(ctx context.Context, l *lookup) bool {
	return c.canServeStale(ctx, l.stale, l.rcc.staleIfError)
}

// canServeStale reports whether e may answer a failed fill: inside its
// stale-if-error window (the response's, the request's reqWindow seconds,
// or the policy's), not forbidden by must-revalidate or no-cache, and not
// invalidated since it was looked up (unless soft purge is on).
func (c *Cache) canServeStale(ctx context.Context, e *Entry, reqWindow int64) bool {
	if e == nil || e.MustRevalidate || e.NoCache {
		return false
	}
	window := max(e.StaleIfError, time.Duration(max(reqWindow, 0))*time.Second)
	if window <= 0 || -(e.Lifetime-e.age(now())) > window {
		return false
	}
	return c.cfg.softPurge || c.current(ctx, e)
}
