package httpcache

import (
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Cache is an HTTP response cache. [Cache.Handler] wraps the handlers whose
// GET and HEAD responses it keeps; [Invalidate] and [Cache.Invalidate] drop
// what writes made stale.
//
// A Cache is made by [New]; its zero value is not usable. Its methods are
// safe for concurrent use. Values derived with [Cache.With] share the
// store, the tag versions, the in-flight fills and the background refreshes
// of the Cache they come from, so an invalidation through any of them
// reaches entries stored through all of them.
//
// A hit costs a key hash, one store lookup, one versions lookup and a copy of
// the stored header values; the body is written from the stored bytes
// without copying them.
type Cache struct {
	core *core
	cfg  config
}

// core is what every policy derived from one New shares.
type core struct {
	store     Store
	versions  Versions
	logger    *slog.Logger
	vary      varyIndex
	flights   group // fills of missing or stale keys
	refreshes group // background refreshes, one per key
	hfm       hitForMiss
	bg        background
	closed    atomic.Bool
}

// New returns a Cache configured by opts. Without [WithStore] it keeps
// entries in a [MemoryStore] of [DefaultMemoryBytes]; without [WithTTL] it
// stores only responses that state their own freshness.
//
// New panics, with a message that starts "httpcache: ", when an option is
// nil or given an invalid value (a negative duration, a nil store, a Vary
// list passed as one name): those are programmer errors. A custom store
// without [WithVersions] is logged as a warning: invalidations would reach
// this process only.
func New(opts ...Option) *Cache {
	cfg := defaultConfig()
	applyOptions(&cfg, opts)
	cfg.coreOptionsApplied = nil
	co := &core{store: cfg.store, versions: cfg.versions, logger: cfg.logger}
	if co.store == nil {
		co.store = NewMemoryStore(DefaultMemoryBytes)
	}
	if co.logger == nil {
		co.logger = slog.Default()
	}
	if co.versions == nil {
		co.versions = NewMemoryVersions()
		if _, local := co.store.(*MemoryStore); !local {
			co.logger.Warn("httpcache: a custom store with in-process versions: " +
				"invalidations reach only this process; pass WithVersions to share them")
		}
	}
	co.bg.init(cfg.maxRefreshes)
	return &Cache{core: co, cfg: cfg}
}

// With returns a Cache with c's policy changed by opts, for use on some
// routes: it shares c's store, tag versions, in-flight fills, background
// refreshes and Close. It applies to future requests through the returned
// value only.
//
// With panics when given an option that configures the shared core
// ([WithStore], [WithVersions], [WithLogger], [WithMaxRefreshes]): pass
// those to [New].
func (c *Cache) With(opts ...Option) *Cache {
	cfg := c.cfg
	cfg.vary = append([]string(nil), c.cfg.vary...)
	applyOptions(&cfg, opts)
	if len(cfg.coreOptionsApplied) > 0 {
		panic("httpcache: With: " + cfg.coreOptionsApplied[0] + " configures the shared core; pass it to New")
	}
	return &Cache{core: c.core, cfg: cfg}
}

// Close stops the cache: it stops starting background refreshes, waits for
// the running ones, and makes every handler from [Cache.Handler] (of c and
// of every value derived with [Cache.With]) pass GET and HEAD requests
// straight to the handler it wraps. Writes still invalidate, and the
// hooks still reach the cache: other processes may share its versions. A refresh is cancelled after [WithRefreshTimeout]; a
// handler that ignores its context's cancellation holds Close until it
// returns. Close returns nil; calling it again does nothing.
func (c *Cache) Close() error {
	c.core.closed.Store(true)
	c.core.bg.close()
	return nil
}

// Wait blocks until no background refresh or refill is running. It is meant
// for tests that drive [Cache.Handler] with httptest and need a refresh's
// effect without sleeping; under a steady stream of stale hits, which keep
// starting refreshes, it may not return.
func (c *Cache) Wait() {
	c.core.bg.wait()
}

// Handler returns a handler that serves GET and HEAD requests from the cache
// and fills it from next. Every other method goes to next with the
// invalidation hook in its context, and a 2xx or 3xx response to an unsafe
// method invalidates the request's URL. It applies to future requests.
//
// The method value c.Handler is a func(http.Handler) http.Handler, so it
// works as middleware: r.Use(c.Handler).
func (c *Cache) Handler(next http.Handler) http.Handler {
	if next == nil {
		panic("httpcache: Handler(nil)")
	}
	return &handler{c: c, next: next}
}

type handler struct {
	c    *Cache
	next http.Handler
}

// ServeHTTP reads as the request flow: closed, unsafe method, bypass, then
// the cacheable path (lookup, serve fresh or stale, or fill).
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := h.c
	outer := stateFrom(r.Context())
	if outer != nil && outer.c.core != c.core {
		outer = nil // another cache's: independent of this one
	}
	switch {
	case outer != nil && c.passNested(outer, r):
		h.next.ServeHTTP(w, r)
	case c.core.closed.Load() && !isSafeMethod(r.Method):
		c.serveUnsafe(w, r, h.next) // other instances share the versions
	case c.core.closed.Load():
		h.next.ServeHTTP(w, withState(r, newState(c, h.next, r)))
	case !isSafeMethod(r.Method):
		c.serveUnsafe(w, r, h.next)
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		c.serveForward(w, r, h.next, statusMethod)
	case bypassed(r):
		c.serveForward(w, r, h.next, statusBypass)
	default:
		c.serveCacheable(w, r, h.next, outer)
	}
}

// isSafeMethod reports whether method is safe (RFC 9110 Section 9.2.1): a
// response to any other method invalidates what it names.
func isSafeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// methodOverrideHeaders are the request fields by which frameworks let a GET
// or POST stand for another method; a request carrying one is not cached.
var methodOverrideHeaders = [...]string{"X-Http-Method-Override", "X-Http-Method", "X-Method-Override"}

// bypassed reports whether a GET or HEAD request must skip the cache: its
// response may be personal (Authorization), not HTTP (Upgrade), not what it
// seems (a body, a method override), or the client asked that nothing be
// stored. (A Range request is answered from a stored entry, never filled.)
func bypassed(r *http.Request) bool {
	h := r.Header
	if len(h["Authorization"]) > 0 || len(h["Upgrade"]) > 0 {
		return true
	}
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		return true
	}
	for _, name := range methodOverrideHeaders {
		if len(h[name]) > 0 {
			return true
		}
	}
	if cc := h["Cache-Control"]; len(cc) > 0 && parseCacheControl(cc).noStore {
		return true
	}
	return false
}

// serveForward sends r to next with the original writer, saying why in
// Cache-Status. The invalidation hook is in the context all the same.
// The fields meant for the cache are removed from the response, except on
// an Upgrade request, whose writer is passed untouched.
func (c *Cache) serveForward(w http.ResponseWriter, r *http.Request, next http.Handler, status string) {
	w.Header()[headerCacheStatus] = []string{status}
	st := newState(c, next, r)
	defer st.startRefills()
	if st.parent != nil {
		st.parent.addRaw([]string{urlTag(r.Host, r.URL.Path)})
	}
	if len(r.Header["Upgrade"]) > 0 {
		next.ServeHTTP(w, withState(r, st))
		return
	}
	pw := &passWriter{rw: w, c: c, r: r, st: st}
	next.ServeHTTP(pw, withState(r, st))
	if !pw.wroteHeader {
		pw.WriteHeader(http.StatusOK) // what net/http sends, without the cache's fields
	}
}

// background tracks the refreshes running in the background: it bounds
// them, lets Wait and Close wait for them, and refuses new ones after close.
type background struct {
	sem chan struct{} // one slot per running refresh

	mu     sync.Mutex // guards the fields below
	n      int
	idle   chan struct{} // closed when n drops to zero; nil while n is zero
	closed bool
}

func (b *background) init(limit int) { b.sem = make(chan struct{}, limit) }

// start reserves a slot for a refresh; it reports false when the cache is
// closed or the bound is reached.
func (b *background) start() bool {
	select {
	case b.sem <- struct{}{}:
	default:
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		<-b.sem
		return false
	}
	if b.n == 0 {
		b.idle = make(chan struct{})
	}
	b.n++
	return true
}

// done releases a slot reserved by start.
func (b *background) done() {
	<-b.sem
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n--
	if b.n == 0 {
		close(b.idle)
		b.idle = nil
	}
}

func (b *background) wait() {
	b.mu.Lock()
	idle := b.idle
	b.mu.Unlock()
	if idle != nil {
		<-idle
	}
}

func (b *background) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.wait()
}

// now is the cache's clock; under testing/synctest it is the bubble's.
func now() time.Time { return time.Now() }
