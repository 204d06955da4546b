package httpcache

import (
	"context"
	"math"
	"net/http"
	"slices"
	"time"
)

// Header names the cache reads or writes, in canonical form.
const (
	headerAge          = "Age"
	headerCacheStatus  = "Cache-Status"
	headerCacheControl = "Cache-Control"
	headerContentLen   = "Content-Length"
	headerDate         = "Date"
	headerETag         = "Etag"
	headerLastModified = "Last-Modified"
	headerVary         = "Vary"
)

// Cache-Status values (RFC 9211) for responses not served from an entry.
const (
	statusBypass   = "httpcache; fwd=bypass"
	statusMethod   = "httpcache; fwd=method"
	statusMiss     = "httpcache; fwd=uri-miss"
	statusStored   = "httpcache; fwd=uri-miss; stored"
	statusRequest  = "httpcache; fwd=request"
	statusStale    = "httpcache; fwd=stale"
	statusCollapse = "httpcache; fwd=uri-miss; collapsed"
)

// lookup is what the cacheable path knows about one request.
type lookup struct {
	primary keyHash
	key     keyHash
	sk      string   // key as a string, made on first use by str
	vary    []string // the names the key was built with
	rcc     cacheControl
	now     time.Time
	stale   *Entry    // a stored entry that cannot be served as is, if any
	forced  bool      // the client asked to bypass stored entries (no-cache)
	outer   *reqState // an outer Handler's state, when r is a sub-request
	refill  bool      // a write-through refill: it sees no client's header fields

	unconditional bool // fill without the stale entry's validators
}

// served records that e answered the request: if it is part of an outer
// Handler's response, e's tags are that response's too.
func (l *lookup) served(e *Entry) {
	if l.outer != nil && len(e.Tags) > 1 {
		l.outer.addRaw(e.Tags[1:])
	}
}

// str returns l.key as a string, the form flights and stores take. The
// hit path does without it: it allocates.
func (l *lookup) str() string {
	if l.sk == "" {
		l.sk = string(l.key[:])
	}
	return l.sk
}

// fwd is the RFC 9211 fwd parameter of a fill for l: the client asked for
// it, a stale entry needed it, or there was no entry.
func (l *lookup) fwd() string {
	switch {
	case l.forced:
		return "request"
	case l.stale != nil:
		return "stale"
	}
	return "uri-miss"
}

// fillStatus is the Cache-Status of a response filled for fwd.
func fillStatus(fwd string, stored bool) string {
	switch {
	case fwd == "stale" && stored:
		return statusStale + "; stored"
	case fwd == "stale":
		return statusStale
	case fwd == "request" && stored:
		return statusRequest + "; stored"
	case fwd == "request":
		return statusRequest
	case stored:
		return statusStored
	}
	return statusMiss
}

// serveCacheable is the cacheable path: key, lookup, then serve fresh,
// serve stale and refresh, or fill.
//
// outer is the state of an outer Handler of the same cache when r is a
// sub-request of its response, or nil.
func (c *Cache) serveCacheable(w http.ResponseWriter, r *http.Request, next http.Handler, outer *reqState) {
	primary, ok := c.primaryKey(r)
	if !ok {
		c.serveForward(w, r, next, statusBypass)
		return
	}
	l := &lookup{primary: primary, now: now(), outer: outer}
	l.vary = c.core.vary.get(primary, c.cfg.vary)
	l.key = variantKey(primary, l.vary, r.Header)
	l.rcc = parseCacheControl(r.Header[headerCacheControl])
	e := c.get(r.Context(), &l.key, l.now)
	if e != nil && c.serveStored(w, r, next, l, e) {
		l.served(e)
		return
	}
	if l.rcc.onlyIfCached {
		w.Header()[headerCacheStatus] = []string{statusMiss}
		w.WriteHeader(http.StatusGatewayTimeout)
		return
	}
	switch {
	case partialOrPrecondition(r.Header):
		// The handler's 206 or 412 cannot be stored: such a request is
		// answered from a complete entry or not at all.
		c.serveForward(w, r, next, statusBypass)
		return
	case r.Method == http.MethodHead:
		// A HEAD miss stores nothing: its empty body must never answer a GET.
		c.serveForward(w, r, next, statusMiss)
		return
	}
	c.fill(w, r, next, l)
}

// serveStored serves r from e when the rules allow it, starting a refresh
// if e is stale; it reports false when the request must be filled, leaving
// in l.stale what a conditional or stale-if-error fill can use.
func (c *Cache) serveStored(w http.ResponseWriter, r *http.Request, next http.Handler, l *lookup, e *Entry) bool {
	if !c.varyMatches(e, r.Header) {
		return false
	}
	current := c.current(r.Context(), e)
	if !current && !c.cfg.softPurge {
		return false
	}
	l.stale = e
	ttl := e.Lifetime - e.age(l.now)
	switch {
	case !current:
		return c.serveStale(w, r, next, l, e, ttl)
	case l.rcc.noCache || e.NoCache || (l.rcc.maxAge >= 0 && e.age(l.now) > time.Duration(l.rcc.maxAge)*time.Second):
		l.forced = l.rcc.noCache || l.rcc.maxAge >= 0
		return false
	case ttl > 0 && (l.rcc.minFresh < 0 || ttl >= time.Duration(l.rcc.minFresh)*time.Second):
		c.serveEntry(w, r, e, l.now, "")
		return true
	case ttl > 0:
		return false
	case l.rcc.maxStale >= 0 && !e.MustRevalidate && -ttl <= time.Duration(l.rcc.maxStale)*time.Second:
		c.serveEntry(w, r, e, l.now, "")
		return true
	}
	return c.serveStale(w, r, next, l, e, ttl)
}

// serveStale serves e, stale by -ttl, inside its stale-while-revalidate
// window and starts its refresh; it reports false outside the window.
func (c *Cache) serveStale(w http.ResponseWriter, r *http.Request, next http.Handler, l *lookup, e *Entry, ttl time.Duration) bool {
	if e.MustRevalidate || e.NoCache {
		return false
	}
	window := e.StaleWhileRevalidate
	if c.cfg.softPurge && !c.current(r.Context(), e) {
		window = max(window, time.Until(e.Expires()))
	}
	status := ""
	if ttl > 0 {
		ttl = 0 // an invalidated entry still in its lifetime is stale
		status = hitStatus(0)
	}
	if -ttl > window {
		return false
	}
	c.startRefresh(r, w.Header(), next, l, e)
	c.serveEntry(w, r, e, l.now, status)
	return true
}

// get reads key from the store, failing open. The default store is read
// without making key a string.
func (c *Cache) get(ctx context.Context, key *keyHash, now time.Time) *Entry {
	if ms, ok := c.core.store.(*MemoryStore); ok {
		return ms.getHash(key, now)
	}
	e, err := c.core.store.Get(ctx, string(key[:]))
	if err != nil {
		c.core.logger.ErrorContext(ctx, "httpcache: store get", "err", err)
		return nil
	}
	return e
}

// current reports whether none of e's tags was invalidated after its fill
// started. A versions error counts as not current: serving data that may
// have been invalidated is worse than a miss.
func (c *Cache) current(ctx context.Context, e *Entry) bool {
	if mv, ok := c.core.versions.(*MemoryVersions); ok {
		switch ep := mv.epoch.Load(); {
		case e.Epoch > ep:
			return false // filled under another process's count: unknowable
		case e.Epoch == ep:
			return true // nothing was invalidated since e's fill started
		}
	}
	latest, err := c.core.versions.Latest(ctx, e.Tags)
	if err != nil {
		c.core.logger.ErrorContext(ctx, "httpcache: versions latest", "err", err)
		return false
	}
	return latest <= e.Epoch
}

// varyMatches reports whether e varies on every field the policy adds
// (WithVary), and h has, for every field e varies on, the values the
// request that produced e had (RFC 9111 Section 4.1).
func (c *Cache) varyMatches(e *Entry, h http.Header) bool {
	for _, name := range c.cfg.vary {
		if _, found := slices.BinarySearch(e.Vary, name); !found {
			return false // filled through a policy that did not vary on it
		}
	}
	for _, name := range e.Vary {
		got, present := h[name]
		want, wasPresent := e.RequestHeader[name]
		if present != wasPresent || len(got) != len(want) {
			return false
		}
		for i := range got {
			if got[i] != want[i] {
				return false
			}
		}
	}
	return true
}

// age reports e's current age (RFC 9111 Section 4.2.3).
func (e *Entry) age(now time.Time) time.Duration {
	resident := now.Sub(e.ResponseTime)
	if resident < 0 {
		resident = 0
	}
	initial := max(e.InitialAge, 0)
	if initial > math.MaxInt64-resident {
		return math.MaxInt64 // saturate: an overflow would make it fresh
	}
	return initial + resident
}

// serveEntry writes e as the response to r: its header values copied, Age
// and Cache-Status set, and 304 Not Modified for a matching conditional
// request. An empty status means a hit, whose Cache-Status says its ttl.
func (c *Cache) serveEntry(w http.ResponseWriter, r *http.Request, e *Entry, now time.Time, status string) {
	h := w.Header()
	spare := e.copyHeader(h, 2)
	age, hit := e.replayValues(now)
	if status == "" {
		status = hit
	}
	spare[0], spare[1] = age, status
	h[headerAge] = spare[0:1:1]
	if prev := h[headerCacheStatus]; len(prev) > 0 {
		prependCacheStatus(h, status)
	} else {
		h[headerCacheStatus] = spare[1:2:2]
	}
	if partialOrPrecondition(r.Header) && e.Status == http.StatusOK {
		serveRange(w, r, e)
		return
	}
	if notModified(r, e) {
		// As http.ServeContent: a 304 carries no representation metadata.
		delete(h, headerContentLen)
		delete(h, "Content-Type")
		delete(h, "Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead && len(e.Body) > 0 {
		w.Write(e.Body) //nolint:errcheck // the client hung up; nothing to tell it
	}
}
