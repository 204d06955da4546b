package httpcache

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// hopByHop are the fields that describe one connection, not the response
// (RFC 9110 Section 7.6.1); they are never stored (RFC 9111 Section 3.1).
var hopByHop = [...]string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Transfer-Encoding",
	"Upgrade", "Trailer", "Proxy-Authenticate", "Proxy-Authentication-Info",
}

// storedHeader returns the header an entry keeps: a clone of h without
// hop-by-hop fields, the fields Connection names, the fields named by
// qualified no-cache and private directives, and the cache's own
// Cache-Status; with Date added when the handler set none. Surrogate-Control
// is kept, for revalidations to judge, and never replayed.
func storedHeader(h http.Header, drop []string, respTime time.Time) http.Header {
	s := h.Clone()
	for _, line := range s["Connection"] {
		for name := range strings.SplitSeq(line, ",") {
			if name = strings.TrimSpace(name); name != "" {
				delete(s, http.CanonicalHeaderKey(name))
			}
		}
	}
	for _, name := range hopByHop {
		delete(s, name)
	}
	for _, name := range drop {
		delete(s, name)
	}
	if cs := s[headerCacheStatus]; len(cs) > 0 && strings.HasPrefix(cs[0], "httpcache;") {
		s[headerCacheStatus] = cs[1:]
		if len(cs) == 1 {
			delete(s, headerCacheStatus)
		}
	}
	if len(s[headerDate]) == 0 {
		s[headerDate] = []string{respTime.UTC().Format(http.TimeFormat)}
	}
	return s
}

// completeHeader adds to a stored header what net/http would have added on
// the wire: Content-Length, and a sniffed Content-Type, so that a HEAD
// answered from the entry says what the GET did.
// typed says the response had a Content-Type, perhaps one that outer
// middleware set and sets again on every response.
func completeHeader(h http.Header, status int, body []byte, typed bool) {
	if !bodyAllowed(status) {
		return
	}
	if _, set := h["Content-Type"]; !set && !typed && len(body) > 0 && len(h["Content-Encoding"]) == 0 {
		h["Content-Type"] = []string{http.DetectContentType(body)}
	}
	if len(h[headerContentLen]) == 0 {
		h[headerContentLen] = []string{strconv.Itoa(len(body))}
	}
}

// bodyAllowed reports whether a response with status may have a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// varyValues returns the values h has for names; absent fields stay absent.
func varyValues(names []string, h http.Header) http.Header {
	if len(names) == 0 {
		return nil
	}
	v := make(http.Header, len(names))
	for _, name := range names {
		if vv, ok := h[name]; ok {
			v[name] = append([]string(nil), vv...)
		}
	}
	return v
}

// notUpdated are the fields a 304 must not change in the stored header
// (RFC 9111 Sections 3.2 and 4.3.4): those that describe the stored body,
// which the 304 does not carry, and the validator that selected it.
var notUpdated = [...]string{"Content-Length", "Content-Range", "Content-Encoding", "Content-Md5", "Etag"}

// freshen returns stale updated by the 304 that rec captured: its header
// fields replace the stored ones, and freshness starts again from the
// merged header (RFC 9111 Section 4.3.4). reason says why the result must
// not be stored or shared (the 304 set a cookie, made it private), or is "".
func (c *Cache) freshen(stale *Entry, rec *recorder) (e *Entry, reason string) {
	h := stale.Header.Clone()
	delete(h, headerAge) // the 304 states the age that counts now, if any
	update := storedHeader(handlerHeader(rec.Header(), rec.pre), nil, rec.respTime)
	for _, name := range notUpdated {
		delete(update, name)
	}
	for k, vv := range update {
		h[k] = vv
	}
	delete(h, headerCacheStatus)
	fresh := *stale
	e = &fresh
	e.Header, e.memo = h, nil
	e.RequestTime, e.ResponseTime = rec.fl.reqTime, rec.respTime
	policy := rec.fl.st.policyOr(c)
	v := policy.judge(stale.Status, judgedHeader(withOuter(h, rec.pre), rec.pre), e.RequestTime, e.ResponseTime)
	for _, name := range v.dropFields {
		delete(h, name) // qualified private and no-cache: never stored
	}
	e.Lifetime, e.InitialAge = v.lifetime, v.initialAge
	// The 304 validated the stored body for this request: the renewed
	// entry is this request's variant, under the Vary the 304 states.
	e.Vary, e.RequestHeader = v.vary, varyValues(v.vary, rec.req.Header)
	e.StaleWhileRevalidate, e.StaleIfError = v.swr, v.sie
	e.MustRevalidate, e.NoCache = v.mustReval, v.noCache
	if v.reason != "" {
		e.Lifetime = 0
	}
	return e, v.reason
}

// withOuter returns h with the fields outer middleware set (pre) that h
// lacks: a renewed entry is judged as its first fill was, outer
// Cache-Control and Vary included.
func withOuter(h, pre http.Header) http.Header {
	if len(pre) == 0 {
		return h
	}
	j := h.Clone()
	for k, vv := range pre {
		if _, ok := j[k]; !ok {
			j[k] = vv
		}
	}
	return j
}
