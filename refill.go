package httpcache

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Refill asks the cache to fill targets again, in the background, through
// the handler that ctx's request went to: write-through, so that the first
// reader after a write gets a hit instead of waiting for the handler. A
// handler that writes calls it after [Invalidate], with r.Context().
//
// Each target is a path (with an optional query) or an absolute URL of the
// request's own host; the refill is a GET without the client's header
// fields, so it fills the variant such a request selects. Refills start
// once the writing handler has returned (and its own invalidation is done);
// they count against [WithMaxRefreshes]; a target whose refill is already
// running is refilled once more when that one ends (a refill asked for by
// background work, a refresh or another refill, is skipped instead); and
// [Cache.Wait] waits for them. Refill returns
// [ErrNoCache] when ctx did not come through [Cache.Handler], and an error
// naming the targets it refused (malformed, or of another host).
func Refill(ctx context.Context, targets ...string) error {
	st := stateFrom(ctx)
	if st == nil {
		return ErrNoCache
	}
	var bad []string
	for _, t := range targets {
		u, ok := sameOriginURL(st.req, t)
		if !ok {
			bad = append(bad, t)
			continue
		}
		st.mu.Lock()
		st.refills = append(st.refills, u)
		st.mu.Unlock()
	}
	if len(bad) > 0 {
		return fmt.Errorf("httpcache: Refill: not a path or URL of this host: %q", bad)
	}
	return nil
}

// sameOriginURL resolves target against r's URL; ok is false for another
// host or a malformed target.
func sameOriginURL(r *http.Request, target string) (*url.URL, bool) {
	u, err := url.Parse(target)
	if err != nil || target == "" {
		return nil, false
	}
	base := &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath}
	u = base.ResolveReference(u)
	if normalHost(u.Host) != normalHost(r.Host) {
		return nil, false
	}
	return u, true
}

// startRefills starts the refills the handler asked for.
func (st *reqState) startRefills() {
	st.mu.Lock()
	refills := st.refills
	st.refills = nil
	st.mu.Unlock()
	for _, u := range refills {
		st.c.startRefill(st.req, st.next, u, st.background)
	}
}

// startRefill fills u in the background through next, unless the bound on
// background work is reached. If a refill of its key runs already, that one
// runs once more when it ends; unless background work asks for this one,
// which is then skipped (a handler refilling its own URL would loop).
func (c *Cache) startRefill(orig *http.Request, next http.Handler, u *url.URL, background bool) {
	if c.core.closed.Load() {
		return
	}
	r, cancel, l, ok := c.refillRequest(orig, u)
	if !ok {
		return
	}
	// Refills have flights of their own: a refresh of the same key that
	// started before the write is refused its store, and must not make
	// the refill skip.
	fk := l.str() + "\x00refill"
	join := c.core.refreshes.joinRefill
	if background {
		join = c.core.refreshes.join
	}
	f, leader := join(fk)
	if !leader {
		cancel() // a refill of this key is running: it runs once more
		return
	}
	if !c.core.bg.start() {
		c.core.refreshes.release(fk, f, nil, false)
		cancel()
		return
	}
	go c.refill(orig, u, r, cancel, next, l, fk, f)
}

// refillRequest returns the request of a refill of u, with its context's
// cancel and its lookup; ok is false when u is not cacheable.
func (c *Cache) refillRequest(orig *http.Request, u *url.URL) (*http.Request, context.CancelFunc, *lookup, bool) {
	// Not the writer's context: its values (the user an auth middleware
	// found) must not shape a page stored for everyone.
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.refreshTimeout)
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, u.RequestURI(), nil)
	if err != nil {
		cancel()
		return nil, nil, nil, false
	}
	r.Host, r.RemoteAddr, r.Proto, r.ProtoMajor, r.ProtoMinor = orig.Host, orig.RemoteAddr, orig.Proto, orig.ProtoMajor, orig.ProtoMinor
	r.TLS = orig.TLS // the same scheme, hence the same key, as the readers'
	r.URL.Host, r.URL.Scheme = "", ""
	primary, ok := c.primaryKey(r)
	if !ok {
		cancel()
		return nil, nil, nil, false
	}
	l := &lookup{primary: primary, rcc: noRequestDirectives(), refill: true}
	l.vary = c.core.vary.get(primary, c.cfg.vary)
	l.key = variantKey(primary, l.vary, r.Header)
	return r, cancel, l, true
}

// refill runs a write-through refill, again while writes that came after
// it started ask for one, and ends its flight before its background slot,
// so that Wait and Close do not return while it holds the flight.
func (c *Cache) refill(orig *http.Request, u *url.URL, r *http.Request, cancel context.CancelFunc, next http.Handler, l *lookup, fk string, f *flight) {
	defer c.core.bg.done()
	defer c.core.refreshes.release(fk, f, nil, false)
	for {
		c.refreshRun(r, nil, cancel, next, l)
		if c.core.refreshes.releaseRefill(fk, f) || c.core.closed.Load() {
			return
		}
		var ok bool
		if r, cancel, l, ok = c.refillRequest(orig, u); !ok {
			return
		}
	}
}
