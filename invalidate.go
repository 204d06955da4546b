package httpcache

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ErrNoCache is returned by [Invalidate] when its context did not come
// through [Cache.Handler], so there is no cache to invalidate.
var ErrNoCache = errors.New("httpcache: no cache in context")

// Reserved tags start with a control byte, which validTag refuses, so a
// user's tag never collides with them.
const (
	tagAll    = "\x00all"  // carried by every entry: InvalidateAll bumps it
	tagURLPfx = "\x01url " // then host and path: the implicit URL tag
)

// Tag labels the response being produced for ctx's request with tags, so
// that invalidating any of them drops the entry. A handler calls it with
// r.Context() before it returns; with a context that did not come through
// [Cache.Handler] it does nothing. A tag is 1 to 256 bytes without control
// characters; invalid tags are dropped and logged. A response with more
// than 64 tags (from Tag, its tag header fields and the cached fragments it
// includes) is not stored, since an entry missing one would escape that
// tag's invalidation. A Handler of the same cache serving a sub-request
// (a fragment, a route under http.StripPrefix) adds its tags to the outer
// response's. Tag is safe for concurrent use.
func Tag(ctx context.Context, tags ...string) {
	if st := stateFrom(ctx); st != nil {
		st.add(ctx, tags)
	}
}

// Invalidate drops every entry tagged with any of tags from the cache whose
// handler ctx's request came through, in every policy of that cache. It is
// the hook a handler calls when it writes data. It returns [ErrNoCache] when
// ctx did not come through [Cache.Handler]. See [Cache.Invalidate].
func Invalidate(ctx context.Context, tags ...string) error {
	st := stateFrom(ctx)
	if st == nil {
		return ErrNoCache
	}
	return st.c.Invalidate(ctx, tags...)
}

// Invalidate drops every entry tagged with any of tags, through every
// policy of the cache. It bumps the tags' versions in O(len(tags)) and
// deletes nothing: entries whose versions fell behind are misses and age
// out of the store. Once it returns nil, no request is served an entry
// filled before the call (unless [WithSoftPurge] is on). Invalid tags,
// which no entry can carry, are reported in the error; the valid ones are
// invalidated all the same. It applies to future requests.
func (c *Cache) Invalidate(ctx context.Context, tags ...string) error {
	valid := make([]string, 0, len(tags))
	var bad []string
	for _, t := range tags {
		if validTag(t) {
			valid = append(valid, t)
		} else {
			bad = append(bad, t)
		}
	}
	if err := c.bump(ctx, valid); err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("httpcache: invalid tags %q (1 to %d bytes, no control characters)", bad, maxTagLen)
	}
	return nil
}

// InvalidateAll drops every entry of the cache, through every policy, as a
// change of [WithVersion] would. It applies to future requests.
func (c *Cache) InvalidateAll(ctx context.Context) error {
	return c.bump(ctx, []string{tagAll})
}

// InvalidateURL drops every entry filled for rawURL's host and path, all
// query strings and variants included, as a successful unsafe request to
// that URL does. rawURL must be absolute. It applies to future requests.
func (c *Cache) InvalidateURL(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("httpcache: InvalidateURL %q: not an absolute URL", rawURL)
	}
	return c.bump(ctx, []string{urlTag(u.Host, u.Path)})
}

func (c *Cache) bump(ctx context.Context, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	if err := c.core.versions.Bump(ctx, tags); err != nil {
		return fmt.Errorf("httpcache: invalidate: %w", err)
	}
	return nil
}

// urlTag is the implicit tag of every entry filled for host and path. It is
// normalised, so that every spelling of one resource shares it: the host
// lower-cased without a default port, the path decoded (/%7Eu is /~u).
// Merging /a%2Fb with /a/b only invalidates more, never less.
func urlTag(host, path string) string {
	if path == "" {
		path = "/"
	}
	return tagURLPfx + normalHost(host) + path
}

// normalHost returns host lower-cased, without a default port.
func normalHost(host string) string {
	host = strings.ToLower(host)
	if h, port, err := net.SplitHostPort(host); err == nil && (port == "80" || port == "443") {
		host = h
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
	}
	return host
}

// entryTags returns the tags of an entry for r: the reserved ones, then the
// given ones, deduplicated. ok is false when more than maxTags remain: an
// entry that cannot carry all its tags is not stored, since dropping one
// would let an invalidation miss it.
func entryTags(r *http.Request, given []string) (tags []string, ok bool) {
	tags = make([]string, 0, 2+len(given))
	tags = append(tags, tagAll, urlTag(r.Host, r.URL.Path))
	for _, t := range given {
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags, len(tags) <= 2+maxTags
}

// takeHeaderTags returns the tags a response's header names and removes the
// tag fields from it, logging what it had to drop.
// overflow reports, through st, a response that names more tags than an
// entry keeps.
func takeHeaderTags(c *Cache, r *http.Request, h http.Header, st *reqState) []string {
	tags, err := headerTags(h)
	if err != nil {
		c.core.logger.WarnContext(r.Context(), "httpcache: response tags", "url", r.URL.String(), "err", err)
		if errors.Is(err, errTooManyTags) && st != nil {
			st.setOverflow()
		}
	}
	stripTagHeaders(h)
	return tags
}

// serveUnsafe sends a request with an unsafe method to next with the hook
// in its context; a 2xx or 3xx response invalidates what the request named
// as soon as its status is written (RFC 9111 Section 4.4).
func (c *Cache) serveUnsafe(w http.ResponseWriter, r *http.Request, next http.Handler) {
	pw := &passWriter{rw: w, c: c, r: r, unsafe: true}
	w.Header()[headerCacheStatus] = []string{statusMethod}
	st := newState(c, next, r)
	defer st.startRefills() // after the invalidation, or the refills would be refused
	next.ServeHTTP(pw, withState(r, st))
	if !pw.wroteHeader {
		pw.WriteHeader(http.StatusOK)
	}
}

// invalidate bumps the request URL, the same-origin Location and
// Content-Location, and the Cache-Group-Invalidation groups of a 2xx or 3xx
// response; it strips the tag fields either way.
func (w *passWriter) invalidate(code int) {
	h := w.rw.Header()
	groups, err := parseCacheGroups(h["Cache-Group-Invalidation"])
	stripCacheFields(h)
	if code < 200 || code > 399 {
		return
	}
	ctx := w.r.Context()
	if err != nil {
		w.c.core.logger.WarnContext(ctx, "httpcache: Cache-Group-Invalidation", "err", err)
	}
	tags := []string{urlTag(w.r.Host, w.r.URL.Path)}
	for _, name := range [...]string{"Location", "Content-Location"} {
		if t, ok := sameOriginTag(w.r, h.Get(name)); ok {
			tags = append(tags, t)
		}
	}
	for _, g := range groups {
		if validTag(g) {
			tags = append(tags, g)
		}
	}
	if err := w.c.bump(context.WithoutCancel(ctx), tags); err != nil {
		w.c.core.logger.ErrorContext(ctx, "httpcache: invalidate after "+w.r.Method, "err", err)
	}
}

// sameOriginTag returns the URL tag of ref, resolved against r's URL, when
// it has r's host.
func sameOriginTag(r *http.Request, ref string) (string, bool) {
	u, ok := sameOriginURL(r, ref)
	if !ok {
		return "", false
	}
	return urlTag(u.Host, u.Path), true
}
