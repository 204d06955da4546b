package httpcache

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"sync"
)

// stateKey is the context key of a request's *reqState.
type stateKey struct{}

// reqState is what a handler reaches through its request's context: the
// cache, the tags it gives the response it is producing, the refills it
// asks for, and, between nested Handlers of one cache, the policy and key
// they agree on.
type reqState struct {
	c      *Cache
	next   http.Handler  // the handler the request went to, for Refill
	req    *http.Request // the request as it reached Handler
	parent *reqState     // the state of an outer Handler of the same cache, if any

	primary    keyHash // the key a fill stores under, when filling
	filling    bool
	background bool // a refresh or refill: the refills it asks for never rerun

	mu       sync.Mutex // guards the fields below
	tags     []string
	overflow bool // more tags were given than an entry keeps
	refills  []*url.URL
	policy   *Cache // the innermost nested Handler's policy, if any
	noStore  bool   // a nested Handler disagrees on the key: store nothing
}

// newState returns the state of r as it reaches a Handler of c, linked to
// the state of an outer Handler of the same cache, whose response r is part
// of (a fragment, a route under http.StripPrefix): the tags of r's response
// are that response's tags too.
func newState(c *Cache, next http.Handler, r *http.Request) *reqState {
	st := &reqState{c: c, next: next, req: r}
	if p := stateFrom(r.Context()); p != nil && p.c.core == c.core {
		st.parent = p
	}
	return st
}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	return st
}

// add records tags, dropping invalid ones; past maxTags it records the
// overflow, so that the response is not stored (an entry that cannot carry
// a tag would be missed by its invalidation).
func (st *reqState) add(ctx context.Context, tags []string) {
	valid := make([]string, 0, len(tags))
	for _, t := range tags {
		if validTag(t) {
			valid = append(valid, t)
		} else {
			st.c.core.logger.WarnContext(ctx, "httpcache: invalid tag dropped", "tag", t)
		}
	}
	st.addRaw(valid)
}

// addRaw records tags that need no checking (from entries, reserved URL
// tags), in st and in every outer state.
func (st *reqState) addRaw(tags []string) {
	for s := st; s != nil && len(tags) > 0; s = s.parent {
		s.mu.Lock()
		for _, t := range tags {
			if s.overflow {
				break // not stored anyway: keep no more, compare no more
			}
			if !slices.Contains(s.tags, t) {
				s.tags = append(s.tags, t)
				if len(s.tags) > maxTags {
					break
				}
			}
		}
		if len(s.tags) > maxTags && !s.overflow {
			s.overflow = true
			s.c.core.logger.Warn("httpcache: more tags than an entry keeps; the response is not stored", "max", maxTags)
		}
		s.mu.Unlock()
	}
}

// setOverflow records that the response named more tags than an entry
// keeps, in st and every outer state.
func (st *reqState) setOverflow() {
	for s := st; s != nil; s = s.parent {
		s.mu.Lock()
		s.overflow = true
		s.mu.Unlock()
	}
}

// taken returns a copy of the tags recorded so far.
func (st *reqState) taken() []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]string(nil), st.tags...)
}

// refusal returns why the response of st must not be stored ("" if none).
func (st *reqState) refusal() string {
	if st == nil {
		return ""
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.noStore:
		return "nested policy"
	case st.overflow:
		return "too many tags"
	}
	return ""
}

// policyOr returns the policy of the innermost Handler the request went
// through, or c.
func (st *reqState) policyOr(c *Cache) *Cache {
	if st == nil {
		return c
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.policy != nil {
		return st.policy
	}
	return c
}

// passNested reports whether r, reaching a Handler of c inside another
// Handler of the same cache (st is the outer one's state), goes straight to
// next: it does when it asks for the same resource with a safe method
// (r.Use(c.Handler) around a route with c.With(...).Handler). The outer
// Handler then fills under c's freshness policy if c keys r as it did, and
// stores nothing otherwise (c bypasses r, or keys it differently). A
// sub-request for another resource, or with an unsafe method, is cached, or
// invalidates, on its own, its tags joining the outer response's.
func (c *Cache) passNested(st *reqState, r *http.Request) bool {
	if !isSafeMethod(r.Method) || !sameResource(r, st.req) {
		return false
	}
	primary, ok := c.primaryKey(r)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.filling && (!ok || primary != st.primary) {
		st.noStore = true
	} else {
		st.policy = c
	}
	return true
}

// sameResource reports whether a and b ask for the same URL.
func sameResource(a, b *http.Request) bool {
	return a.Host == b.Host && a.URL.Path == b.URL.Path && a.URL.RawQuery == b.URL.RawQuery
}

// withState returns r with st in its context, so that Tag, Invalidate and
// Refill reach the cache from the handler.
func withState(r *http.Request, st *reqState) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
}
