package httpcache

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"time"
)

// maxFillAttempts bounds how often a waiter joins a flight again after
// fills that failed, before it runs the handler on its own.
const maxFillAttempts = 3

// fill runs next for r, capturing its response for the store: through the
// flight for l.key, so that concurrent misses run next once, unless the key
// is known not to be shareable.
func (c *Cache) fill(w http.ResponseWriter, r *http.Request, next http.Handler, l *lookup) {
	for attempt := 0; ; attempt++ {
		if attempt >= maxFillAttempts || c.core.hfm.has(l.str(), now()) {
			c.runFill(w, r, next, l, nil)
			return
		}
		key := l.str()
		f, leader := c.core.flights.join(key)
		if leader {
			// Whatever happens below, even a panic in a store, the key is
			// released: release is idempotent.
			defer c.core.flights.release(key, f, nil, true)
			// Re-check the store inside the flight: a fill of this key may
			// have completed between our lookup and the join, and its
			// waiters (or we, after a rekey or a retry) must not run the
			// handler again for nothing.
			if e := c.get(r.Context(), &l.key, now()); e != nil && !l.forced && c.usable(r, e, &l.rcc) {
				c.core.flights.release(key, f, e, false)
				l.served(e)
				c.serveEntry(w, r, e, now(), "")
				return
			}
			c.runFill(w, r, next, l, f)
			return
		}
		switch c.await(w, r, l, f) {
		case awaitServed:
			return
		case awaitAlone:
			c.runFill(w, r, next, l, nil)
			return
		case awaitRekey:
			l.vary = c.core.vary.get(l.primary, c.cfg.vary)
			l.key, l.sk = variantKey(l.primary, l.vary, r.Header), ""
		}
	}
}

// usable reports whether e can answer r as it is: r's variant, current, and
// fresh enough for r's min-fresh.
func (c *Cache) usable(r *http.Request, e *Entry, rcc *cacheControl) bool {
	ttl := e.Lifetime - e.age(now())
	if ttl <= 0 || (rcc.minFresh >= 0 && ttl < time.Duration(rcc.minFresh)*time.Second) {
		return false
	}
	return !e.NoCache && c.varyMatches(e, r.Header) && c.current(r.Context(), e)
}

// fillState is what a recorder needs to know about the fill it captures.
type fillState struct {
	c            *Cache
	key          string
	f            *flight // nil when the fill is not shared
	reqTime      time.Time
	hold304      bool            // the fill sent the stored validators: a 304 is for the cache
	holdErrors   bool            // a stale entry answers a 5xx instead
	clientStatus bool            // the response goes to a client, with Cache-Status
	fwd          string          // why the fill went to the handler: uri-miss, stale or request
	stale        *Entry          // the entry a failed fill may fall back on
	staleWindow  int64           // the request's stale-if-error, in seconds
	ctx          context.Context // the client's, to check stale against
	det          *detached       // the fill's context; nil for background work
	st           *reqState       // the handler's view of the cache
}

// holdStatus reports whether a response with status is for the cache, not
// the client.
func (fl *fillState) holdStatus(status int) bool {
	return (fl.hold304 && status == http.StatusNotModified) || (fl.holdErrors && status >= 500)
}

// unshareable releases the fill's waiters. After a server error (any 5xx,
// whatever made it unstorable), or when
// the client left a stream, they try the flight again; otherwise the
// response is a property of the key (it sets a cookie, is private, too
// large, a stream): they run the handler themselves, and the key is
// remembered as not shareable for a while.
func (fl *fillState) unshareable(reason string, status int) {
	if fl.det != nil {
		fl.det.unshared()
	}
	transient := status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
	if transient || reason == "client gone" || reason == "cut short" {
		if fl.f != nil {
			fl.c.core.flights.release(fl.key, fl.f, nil, true)
		}
		return
	}
	if d := fl.c.cfg.hitForMiss; d > 0 {
		fl.c.core.hfm.add(fl.key, now().Add(d))
	}
	fl.release()
}

// staleOK reports whether the fill's stale entry answers its failure.
func (fl *fillState) staleOK() bool {
	return fl.ctx != nil && fl.c.canServeStale(fl.ctx, fl.stale, fl.staleWindow)
}

// release lets the fill's waiters go to run the handler themselves.
func (fl *fillState) release() {
	if fl.f != nil {
		fl.c.core.flights.release(fl.key, fl.f, nil, false)
	}
}

// runFill runs next for r through a recorder, then stores and shares the
// response when the rules allow. f is the flight it leads, or nil.
//
// The handler runs detached from the client's cancellation while its
// response can still be shared, so that a leader's client hanging up
// neither fails the waiters nor truncates what is stored; see detached.
func (c *Cache) runFill(w http.ResponseWriter, r *http.Request, next http.Handler, l *lookup, f *flight) {
	fl := &fillState{c: c, key: l.str(), f: f, reqTime: now(), clientStatus: true, fwd: l.fwd()}
	fl.stale, fl.staleWindow, fl.ctx = l.stale, l.rcc.staleIfError, r.Context()
	fl.holdErrors = fl.staleOK()
	ctx, det := detach(r.Context(), c.cfg.refreshTimeout)
	defer det.stop()
	fl.det = det
	if f == nil {
		det.unshared() // no waiters: nobody needs the fill once its client is gone
	}
	epoch, epochErr := c.core.versions.Epoch(ctx)
	if epochErr != nil {
		c.core.logger.ErrorContext(ctx, "httpcache: versions epoch", "err", epochErr)
	}
	st := newState(c, next, r)
	st.primary, st.filling = l.primary, true
	defer st.startRefills()
	fl.st = st
	validated := l.stale
	if l.unconditional {
		validated = nil
	}
	req := c.fillRequest(r, ctx, st, validated, fl)
	rec := &recorder{rw: w, c: c, req: r, fl: fl, capturing: epochErr == nil}
	if len(w.Header()) > 0 {
		rec.pre = w.Header().Clone()
	}
	if fl.hold304 || fl.holdErrors {
		rec.own = w.Header().Clone()
	}
	finished := false
	defer func() {
		if finished {
			return
		}
		c.core.flights.release(l.str(), f, nil, true)
		if rec.wroteHeader && !rec.held || !fl.holdErrors || !fl.staleOK() {
			return // the panic goes on to net/http
		}
		v := recover()
		switch v {
		case nil:
			return // runtime.Goexit, not a panic: it goes on
		case http.ErrAbortHandler:
			panic(v)
		}
		c.core.logger.ErrorContext(r.Context(), "httpcache: handler panic, serving stale",
			"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		c.serveStaleEntry(w, r, l, "panic")
	}()
	next.ServeHTTP(rec, req)
	finished = true
	if ctx.Err() != nil {
		rec.unshare("cut short") // the fill outlived its timeout: incomplete
	}
	c.fillDone(w, r, l, rec, st, epoch)
}

// fillDone stores and shares what a fill captured, and answers the client
// when the response was held back from it.
func (c *Cache) fillDone(w http.ResponseWriter, r *http.Request, l *lookup, rec *recorder, st *reqState, epoch uint64) {
	f := rec.fl.f
	if p := st.parent; p != nil {
		// A sub-request's URL and header tags are the outer response's too.
		p.addRaw(append([]string{urlTag(r.Host, r.URL.Path)}, rec.headerTags...))
	}
	if rec.hijacked {
		c.core.flights.release(l.str(), f, nil, false)
		return
	}
	if !rec.wroteHeader {
		rec.WriteHeader(http.StatusOK) // what net/http sends for a silent handler
	}
	switch {
	case rec.held && rec.status == http.StatusNotModified:
		c.revalidated(w, r, l, rec, st, epoch)
		return
	case rec.held:
		c.core.flights.release(l.str(), f, nil, true)
		if rec.fl.staleOK() {
			c.serveStaleEntry(w, r, l, "status-"+strconv.Itoa(rec.status))
		} else {
			rec.replayHeld() // the window closed, or the entry was invalidated
		}
		return
	}
	e := rec.entry(r.Header)
	if e == nil {
		c.core.flights.release(l.str(), f, nil, rec.capturing || rec.verdict.reason == "status")
		return
	}
	shared := c.finishEntry(r, l, e, st, rec, epoch, nil)
	c.core.flights.release(l.str(), f, shared, shared == nil)
}

// revalidated answers the client with l.stale freshened by the 304 that rec
// held back, storing and sharing it unless the 304 made it unstorable (a
// Set-Cookie, private): then only this client gets it.
func (c *Cache) revalidated(w http.ResponseWriter, r *http.Request, l *lookup, rec *recorder, st *reqState, epoch uint64) {
	if !validatesStored(l.stale, rec.Header()) {
		// The 304 names another entity-tag than the stored one: it must not
		// update the entry (RFC 9111 Section 4.3.4). The client is answered
		// by an unconditional fill, which cannot loop.
		again := *l
		again.unconditional = true                        // the stale entry stays, for stale-if-error only
		c.runFill(w, r, rec.fl.st.next, &again, rec.fl.f) // its waiters wait for this one
		return
	}
	e, reason := c.freshen(l.stale, rec)
	if reason == "" {
		reason = rec.fl.st.refusal() // a nested policy refused this request
	}
	var shared *Entry
	if reason == "" {
		shared = c.finishEntry(r, l, e, st, rec, epoch, l.stale.Tags[min(2, len(l.stale.Tags)):])
	} else {
		rec.fl.unshareable(reason, http.StatusNotModified)
	}
	l.served(e)
	c.serveEntry(w, r, e, now(), fillStatus(l.fwd(), shared != nil)+"; fwd-status=304")
	c.core.flights.release(l.str(), rec.fl.f, shared, shared == nil && reason == "")
}

// finishEntry gives e its tags and epoch and stores it, unless one of its
// tags was invalidated after the fill started. It returns e when it can be
// shared (stored, or refused by a failing store), nil otherwise.
// keep are tags the entry carries over from the one it renews.
func (c *Cache) finishEntry(r *http.Request, l *lookup, e *Entry, st *reqState, rec *recorder, epoch uint64, keep []string) *Entry {
	// The leader's client may have left; a hung store must not hold it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), c.cfg.refreshTimeout)
	defer cancel()
	e.Epoch = epoch
	e.memo = newMemoCell(e.Header)
	tags, ok := entryTags(r, slices.Concat(st.taken(), keep, rec.headerTags))
	if !ok {
		c.core.logger.WarnContext(ctx, "httpcache: not stored: more tags than an entry keeps",
			"url", r.URL.String(), "max", maxTags)
		rec.fl.unshareable("too many tags", e.Status)
		return nil
	}
	e.Tags = tags
	latest, err := c.core.versions.Latest(ctx, e.Tags)
	if err != nil {
		c.core.logger.ErrorContext(ctx, "httpcache: versions latest", "err", err)
		return nil
	}
	if latest > epoch {
		return nil // invalidated while it was being made
	}
	if l.refill {
		// A refill runs without outer middleware, whose Vary it cannot see:
		// it keeps varying on what the key was learned to vary on.
		e.Vary = unionSorted(e.Vary, l.vary)
		e.RequestHeader = varyValues(e.Vary, r.Header)
	}
	key := variantKey(l.primary, e.Vary, r.Header)
	if err := c.core.store.Set(ctx, string(key[:]), e); err != nil {
		// Not stored, but complete and current: the waiters share it
		// rather than run the handler in turn (fail open, not a herd).
		c.core.logger.ErrorContext(ctx, "httpcache: store set", "err", err)
		return e
	}
	if !slices.Equal(e.Vary, l.vary) {
		c.core.vary.set(l.primary, e.Vary, c.cfg.vary)
	}
	c.core.hfm.remove(l.str())
	return e
}

// unionSorted returns the sorted union of two sorted lists.
func unionSorted(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	u := slices.Concat(a, b)
	slices.Sort(u)
	return slices.Compact(u)
}

// fillRequest returns the request next sees in a fill: st in its context,
// and, when a stale entry has validators, a conditional request for them in
// place of the client's own conditions.
func (c *Cache) fillRequest(r *http.Request, ctx context.Context, st *reqState, stale *Entry, fl *fillState) *http.Request {
	ctx = context.WithValue(ctx, stateKey{}, st)
	conditional := len(r.Header["If-None-Match"]) > 0 || len(r.Header["If-Modified-Since"]) > 0 ||
		len(r.Header["Range"]) > 0 // in a unit other than bytes: ignored, and not passed on
	validators := stale != nil && hasValidator(stale.Header)
	if !conditional && !validators {
		return r.WithContext(ctx)
	}
	req := r.Clone(ctx)
	// The client's own conditions would turn a storable 200 into a 304 only
	// it can use; the cache answers them from the entry instead.
	delete(req.Header, "If-None-Match")
	delete(req.Header, "If-Modified-Since")
	delete(req.Header, "Range")
	if validators {
		setValidators(req.Header, stale)
		fl.hold304 = true
	}
	return req
}

// setValidators makes h a conditional request for e's validators (RFC 9111
// Section 4.3.1).
func setValidators(h http.Header, e *Entry) {
	if etag := e.Header.Get(headerETag); etag != "" {
		h.Set("If-None-Match", etag)
	}
	if lm := e.Header.Get(headerLastModified); lm != "" {
		h.Set("If-Modified-Since", lm)
	}
}
