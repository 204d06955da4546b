package httpcache

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// verdict is what the cache decided about storing one response.
type verdict struct {
	reason     string // why the response is not stored; "" when it is
	lifetime   time.Duration
	swr, sie   time.Duration
	mustReval  bool
	noCache    bool
	initialAge time.Duration
	vary       []string // canonical, sorted; WithVary included
	dropFields []string // named by qualified no-cache and private
}

// heuristic reports whether WithTTL applies to status: the statuses RFC 9110
// Section 15.1 calls heuristically cacheable, less the negative ones (404,
// 405, 410, 414, 501), which are stored only when the handler states their
// freshness.
func heuristic(status int) bool {
	switch status {
	case 200, 203, 204, 300, 301, 308:
		return true
	}
	return false
}

// neverStored reports whether status is never stored, whatever the headers
// say: interim, partial, not-modified and server-error responses.
func neverStored(status int) bool {
	switch {
	case status < 200 || status > 599:
		return true
	case status == http.StatusPartialContent, status == http.StatusNotModified,
		status == http.StatusPreconditionFailed, status == http.StatusRequestedRangeNotSatisfiable:
		return true
	case status == 500, status == 502, status == 503, status == 504:
		return true
	}
	return false
}

// judge decides whether a response with status and header h, to a request
// made at reqTime and answered at respTime, may be stored, and for how long
// (RFC 9111 Sections 3 and 4.2).
func (c *Cache) judge(status int, h http.Header, reqTime, respTime time.Time) verdict {
	var v verdict
	if neverStored(status) {
		v.reason = "status"
		return v
	}
	cc := parseCacheControl(h[headerCacheControl])
	sc := surrogateControl{maxAge: -1}
	if lines := h[headerSurrogateControl]; len(lines) > 0 {
		if sc = parseSurrogateControl(lines); surrogateOverrides(&cc, sc) {
			v.reason = "surrogate no-store"
			return v
		}
	}
	if v.reason = refusal(&cc, h, status, sc.maxAge >= 0); v.reason != "" {
		return v
	}
	var ok bool
	if v.vary, ok = c.varyNames(h); !ok {
		v.reason = "vary"
		return v
	}
	explicit := c.lifetime(&v, &cc, h, respTime, status)
	if !explicit && (v.lifetime == 0 || !heuristic(status)) && !cc.noCache {
		v.reason = "no freshness"
		return v
	}
	v.noCache = cc.noCache
	v.mustReval = cc.mustRevalidate || cc.proxyRevalidate || cc.sMaxAge >= 0
	if (v.lifetime <= 0 || v.noCache) && !hasValidator(h) {
		v.reason = "stale without validator"
		return v
	}
	v.swr = pick(cc.staleWhileRevalidate, c.cfg.swr)
	v.sie = pick(cc.staleIfError, c.cfg.sie)
	v.dropFields = append(cc.noCacheFields, cc.privateFields...)
	v.initialAge = initialAge(h, reqTime, respTime)
	return v
}

// surrogateOverrides applies Surrogate-Control directives addressed to this
// cache over Cache-Control: they speak to surrogates, so a max-age there
// replaces every freshness directive of Cache-Control, no-store included. It
// reports whether Surrogate-Control forbids storing.
func surrogateOverrides(cc *cacheControl, sc surrogateControl) bool {
	if sc.noStore {
		return true
	}
	if sc.maxAge >= 0 {
		cc.maxAge, cc.sMaxAge, cc.noStore = sc.maxAge, -1, false
	}
	return false
}

// refusal returns why response directives or fields forbid storing, or "".
// With must-understand, a status the cache knows overrides no-store, and
// any other status forbids storing (RFC 9111 Section 5.2.2.3).
// overridden says Surrogate-Control's max-age replaced Cache-Control's
// directives, no-store included.
func refusal(cc *cacheControl, h http.Header, status int, overridden bool) string {
	switch {
	case cc.mustUnderstand && http.StatusText(status) == "":
		return "must-understand"
	case cc.noStore && !cc.mustUnderstand:
		return "no-store"
	case mentions(h[headerCacheControl], "no-store") && !cc.mustUnderstand && !overridden,
		mentions(h[headerCacheControl], "private"):
		return "no-store or private in malformed Cache-Control"
	case cc.private:
		return "private"
	case len(h["Set-Cookie"]) > 0:
		return "set-cookie"
	case len(h["Trailer"]) > 0:
		return "trailer"
	case isEventStream(h.Get("Content-Type")):
		return "event-stream"
	}
	return ""
}

// lifetime sets v.lifetime from s-maxage, max-age or Expires, or from
// WithTTL for a response that states none; it reports whether the response
// stated its freshness.
func (c *Cache) lifetime(v *verdict, cc *cacheControl, h http.Header, respTime time.Time, status int) bool {
	switch {
	case cc.sMaxAge >= 0:
		v.lifetime = time.Duration(cc.sMaxAge) * time.Second
	case cc.maxAge >= 0:
		v.lifetime = time.Duration(cc.maxAge) * time.Second
	case len(h["Expires"]) > 0:
		expires, ok := parseHTTPDate(h.Get("Expires"))
		if !ok {
			return true // an invalid Expires means already expired
		}
		date, ok := parseHTTPDate(h.Get(headerDate))
		if !ok {
			date = respTime
		}
		v.lifetime = min(max(expires.Sub(date), 0), maxDelta*time.Second)
	default:
		if heuristic(status) {
			v.lifetime = c.cfg.ttl
		}
		return false
	}
	return true
}

// initialAge is the corrected initial age of RFC 9111 Section 4.2.3.
func initialAge(h http.Header, reqTime, respTime time.Time) time.Duration {
	apparent := time.Duration(0)
	if date, ok := parseHTTPDate(h.Get(headerDate)); ok {
		apparent = max(respTime.Sub(date), 0)
	}
	corrected := respTime.Sub(reqTime) + ageValue(h[headerAge])
	// A Date centuries old saturates Sub; clamp, so that age sums cannot
	// overflow into a negative age, hence a fresh entry.
	return min(max(apparent, corrected, 0), maxDelta*time.Second)
}

// maxDelta is the largest delta-seconds the cache represents; larger values
// count as this (RFC 9111 Section 1.2.2).
const maxDelta = 1 << 31

// ageValue parses the field lines of Age (RFC 9111 Section 5.1): one
// delta-seconds, clamped to maxDelta. Anything else (a list, a sign, a
// fraction, a parameter) is invalid, and an invalid Age counts as maxDelta:
// a response whose age cannot be known is stale.
func ageValue(lines []string) time.Duration {
	if len(lines) == 0 {
		return 0
	}
	n, ok := int64(0), false
	if len(lines) == 1 {
		n, ok = deltaSeconds(strings.Trim(lines[0], " \t"))
	}
	if !ok {
		n = maxDelta
	}
	return time.Duration(n) * time.Second
}

// isEventStream reports whether a Content-Type is text/event-stream, in any
// case (media types are case-insensitive, RFC 9110 Section 8.3.1).
func isEventStream(ct string) bool {
	const es = "text/event-stream"
	ct = strings.TrimSpace(ct)
	return len(ct) >= len(es) && strings.EqualFold(ct[:len(es)], es)
}

// pick returns a directive's window if present, else the policy's.
func pick(directive int64, policy time.Duration) time.Duration {
	if directive >= 0 {
		return time.Duration(directive) * time.Second
	}
	return policy
}

func hasValidator(h http.Header) bool {
	return len(h[headerETag]) > 0 || len(h[headerLastModified]) > 0
}

// varyNames returns the canonical, sorted request fields a response varies
// on, WithVary included; ok is false for Vary: * or a malformed name.
func (c *Cache) varyNames(h http.Header) (names []string, ok bool) {
	lines := h[headerVary]
	if len(lines) == 0 {
		return c.cfg.vary, true
	}
	names = append(names, c.cfg.vary...)
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ",") {
			part = strings.TrimSpace(part)
			switch {
			case part == "":
			case part == "*" || !isToken(part):
				return nil, false
			default:
				names = append(names, http.CanonicalHeaderKey(part))
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names), true
}

// mentions reports whether word appears in lines, in any case, as a bare
// token not followed by "=": a no-store or private that malformed syntax
// (an unterminated quote, junk after a value) hid from the parser. Reading
// it anyway only ever stores less.
func mentions(lines []string, word string) bool {
	for _, line := range lines {
		for i := 0; i+len(word) <= len(line); i++ {
			if !strings.EqualFold(line[i:i+len(word)], word) {
				continue
			}
			before := i == 0 || !isTokenByte(line[i-1])
			j := i + len(word)
			for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
				j++
			}
			after := i+len(word) == len(line) || !isTokenByte(line[i+len(word)])
			if before && after && (j == len(line) || line[j] != '=') {
				return true
			}
		}
	}
	return false
}
