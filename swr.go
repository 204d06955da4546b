package httpcache

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
)

// startRefresh starts the background refresh of e, stale, unless one is
// running for its key already, the bound on refreshes is reached, or the
// cache is closed: then the stale entry is served without one.
//
// outer is the client's header as outer middleware left it before the
// cache ran: the refresh judges its response with those fields, as the fill
// did.
func (c *Cache) startRefresh(r *http.Request, outer http.Header, next http.Handler, l *lookup, e *Entry) {
	f, leader := c.core.refreshes.join(l.str())
	if !leader {
		return
	}
	if !c.core.bg.start() {
		c.core.refreshes.release(l.str(), f, nil, false)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), c.cfg.refreshTimeout)
	rl := &lookup{primary: l.primary, key: l.key, sk: l.str(), vary: l.vary, rcc: noRequestDirectives(), stale: e}
	req := r.Clone(ctx)
	req.Method = http.MethodGet
	req.Body, req.ContentLength = http.NoBody, 0
	for _, name := range preconditionFields {
		delete(req.Header, name) // the refresh fills the whole entry, for everyone
	}
	var pre http.Header
	if len(outer) > 0 {
		pre = outer.Clone()
	}
	go c.refresh(req, pre, cancel, next, rl, f)
}

// refresh runs next for a background refresh and stores what it returns,
// unless it failed: a 5xx, a panic or a timeout never replaces the entry.
// It recovers panics and reports them to the logger.
func (c *Cache) refresh(r *http.Request, pre http.Header, cancel context.CancelFunc, next http.Handler, l *lookup, f *flight) {
	defer c.core.bg.done()
	defer c.core.refreshes.release(l.str(), f, nil, false)
	c.refreshRun(r, pre, cancel, next, l)
}

// refreshRun is the body of a refresh or a refill: it runs next, stores
// what it returns, recovers panics and cancels the refresh's context.
func (c *Cache) refreshRun(r *http.Request, pre http.Header, cancel context.CancelFunc, next http.Handler, l *lookup) {
	defer cancel()
	defer func() {
		if v := recover(); v != nil {
			c.core.logger.ErrorContext(r.Context(), "httpcache: panic in background refresh",
				"url", r.URL.String(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	if c.refreshOnce(r, pre, next, l) {
		// The 304 validated another representation than the stored one
		// (RFC 9111 Section 4.3.4): ask again, unconditionally.
		again := *l
		again.stale = nil
		c.refreshOnce(r, pre, next, &again)
	}
}

// refreshOnce runs next once for a refresh of l and stores the result. It
// reports whether the handler answered a conditional request with a 304
// naming another entity-tag than the stored one.
func (c *Cache) refreshOnce(r *http.Request, pre http.Header, next http.Handler, l *lookup) (mismatch bool) {
	fl := &fillState{c: c, key: l.str(), reqTime: now(), holdErrors: true}
	epoch, err := c.core.versions.Epoch(r.Context())
	if err != nil {
		c.core.logger.ErrorContext(r.Context(), "httpcache: versions epoch", "err", err)
		return false
	}
	st := &reqState{c: c, next: next, req: r} // detached: no outer response to tag
	st.primary, st.filling, st.background = l.primary, true, true
	defer st.startRefills()
	fl.st = st
	req := c.fillRequest(r, r.Context(), st, l.stale, fl)
	rec := &recorder{rw: &discard{h: make(http.Header)}, c: c, req: r, fl: fl, capturing: true, pre: pre}
	copyHeader(rec.rw.Header(), pre, 0)
	if fl.hold304 || fl.holdErrors {
		rec.own = rec.rw.Header().Clone()
	}
	next.ServeHTTP(rec, req)
	if err := r.Context().Err(); err != nil {
		c.core.logger.WarnContext(r.Context(), "httpcache: background refresh", "url", r.URL.String(), "err", err)
		return false
	}
	if !rec.wroteHeader {
		rec.WriteHeader(http.StatusOK)
	}
	switch {
	case rec.held && rec.status == http.StatusNotModified:
		if !validatesStored(l.stale, rec.Header()) {
			return true
		}
		if e, reason := c.freshen(l.stale, rec); reason == "" {
			c.finishEntry(r, l, e, st, rec, epoch, l.stale.Tags[min(2, len(l.stale.Tags)):])
		}
	case !rec.held:
		if e := rec.entry(r.Header); e != nil {
			c.finishEntry(r, l, e, st, rec, epoch, nil)
		}
	}
	return false
}

// noRequestDirectives is the parsed form of an absent Cache-Control.
func noRequestDirectives() cacheControl { return parseCacheControl(nil) }
