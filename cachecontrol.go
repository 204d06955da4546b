package httpcache

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// cacheControl is the parsed form of the Cache-Control field lines of a request or response.
type cacheControl struct {
	// Delta-seconds values, in seconds; -1 when the directive is absent.
	maxAge, sMaxAge, minFresh, staleWhileRevalidate, staleIfError int64

	maxStale    int64 // -1 absent; when present without a value, maxStaleAny is true and maxStale is 1<<31
	maxStaleAny bool

	noStore, noCache, private, public, mustRevalidate, proxyRevalidate,
	onlyIfCached, noTransform, mustUnderstand, immutable bool

	// noCacheFields and privateFields are the canonical header names listed by the qualified
	// forms no-cache="a, b" and private="a" (then noCache/private stay false: a qualified form
	// is not the unqualified directive).
	noCacheFields, privateFields []string
}

// parseCacheControl parses every field line of a Cache-Control header (h["Cache-Control"]).
//
// It never fails: what it cannot read is ignored, or read the more cautious
// way. The first occurrence of a valued directive (max-age, max-stale, …)
// wins, across field lines; flags accumulate, and so do the field names of
// qualified no-cache and private (a union strips more fields, never fewer).
// A qualified form whose value is empty, unterminated or holds no valid field
// name counts as the unqualified directive. Lines without qualified forms are
// parsed without allocating.
func parseCacheControl(lines []string) cacheControl {
	cc := cacheControl{maxAge: -1, sMaxAge: -1, minFresh: -1, staleWhileRevalidate: -1, staleIfError: -1, maxStale: -1}
	var seen uint8
	for _, line := range lines {
		for i := 0; i < len(line); {
			var el ccElement
			el, i = nextCCElement(line, i)
			cc.apply(el, &seen)
		}
	}
	return cc
}

// ccElement is one element of a Cache-Control list, its value still raw.
type ccElement struct {
	name  string
	value string // a quoted-string's content, escapes not yet removed
	// hasValue reports whether the element has an "="; quoted whether its
	// value was a quoted-string; malformed whether the value was unterminated
	// or followed by something other than a comma.
	hasValue, quoted, malformed bool
}

// nextCCElement reads the list element of s at or after i, skipping empty
// elements, and returns it with the index of the comma that ends it (or
// len(s)). An element with an empty name is returned when s holds nothing
// more, or nothing recognisable before the next comma.
func nextCCElement(s string, i int) (ccElement, int) {
	for i < len(s) && (s[i] == ',' || isOWS(s[i])) {
		i++
	}
	var el ccElement
	start := i
	for i < len(s) && !isCCDelim(s[i]) {
		i++
	}
	el.name = s[start:i]
	i = skipOWS(s, i)
	if i < len(s) && s[i] == '=' {
		el.hasValue = true
		i = skipOWS(s, i+1)
		el.value, el.quoted, el.malformed, i = readCCValue(s, i)
	}
	end, junk := skipCCJunk(s, i)
	el.malformed = el.malformed || junk
	return el, end
}

// readCCValue reads the token or quoted-string starting at s[i], and returns
// its content, whether it was quoted, whether it was an unterminated
// quoted-string, and the index just past it.
func readCCValue(s string, i int) (value string, quoted, unterminated bool, next int) {
	if i < len(s) && s[i] == '"' {
		for j := i + 1; j < len(s); j++ {
			switch s[j] {
			case '\\':
				j++
			case '"':
				return s[i+1 : j], true, false, j + 1
			}
		}
		// An unterminated quoted-string ends at the end of the line.
		return s[i+1:], true, true, len(s)
	}
	start := i
	for i < len(s) && !isCCDelim(s[i]) {
		i++
	}
	return s[start:i], false, false, i
}

// skipCCJunk returns the index of the first comma at or after i that is not
// inside a quoted-string (or len(s)), and reports whether anything other
// than optional whitespace lies before it.
func skipCCJunk(s string, i int) (end int, junk bool) {
	j := skipOWS(s, i)
	if j == len(s) || s[j] == ',' {
		return j, false
	}
	for ; j < len(s) && s[j] != ','; j++ {
		if s[j] == '"' {
			_, _, _, j = readCCValue(s, j)
			j-- // the loop's j++ lands just past the closing quote
		}
	}
	return j, true
}

// ccDirective identifies a Cache-Control directive this package knows.
type ccDirective uint8

// The known directives; ccUnknown is any other name.
const (
	ccUnknown ccDirective = iota
	ccMaxAge
	ccSMaxAge
	ccMinFresh
	ccStaleWhileRevalidate
	ccStaleIfError
	ccMaxStale
	ccNoCache
	ccPrivate
	ccNoStore
	ccPublic
	ccMustRevalidate
	ccProxyRevalidate
	ccOnlyIfCached
	ccNoTransform
	ccMustUnderstand
	ccImmutable
)

// lookupCCDirective returns the directive named name, compared
// case-insensitively in ASCII only. strings.EqualFold would be wrong here:
// it folds "ſ" (U+017F) to "s" and "K" (U+212A) to "k".
func lookupCCDirective(name string) ccDirective {
	var buf [len("stale-while-revalidate")]byte
	if len(name) > len(buf) {
		return ccUnknown
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return ccDirectives(string(buf[:len(name)]))
}

// ccDirectives maps a lowercase directive name to its directive.
func ccDirectives(lower string) ccDirective {
	switch lower {
	case "max-age":
		return ccMaxAge
	case "s-maxage":
		return ccSMaxAge
	case "min-fresh":
		return ccMinFresh
	case "stale-while-revalidate":
		return ccStaleWhileRevalidate
	case "stale-if-error":
		return ccStaleIfError
	case "max-stale":
		return ccMaxStale
	case "no-cache":
		return ccNoCache
	case "private":
		return ccPrivate
	}
	return ccFlagDirectives(lower)
}

// ccFlagDirectives maps a lowercase directive name that takes no argument
// to its directive.
func ccFlagDirectives(lower string) ccDirective {
	switch lower {
	case "no-store":
		return ccNoStore
	case "public":
		return ccPublic
	case "must-revalidate":
		return ccMustRevalidate
	case "proxy-revalidate":
		return ccProxyRevalidate
	case "only-if-cached":
		return ccOnlyIfCached
	case "no-transform":
		return ccNoTransform
	case "must-understand":
		return ccMustUnderstand
	case "immutable":
		return ccImmutable
	}
	return ccUnknown
}

// apply records el in cc. seen has one bit per valued directive already met,
// so that its first occurrence wins.
func (cc *cacheControl) apply(el ccElement, seen *uint8) {
	d := lookupCCDirective(el.name)
	if d >= ccMaxAge && d <= ccMaxStale {
		bit := uint8(1) << (d - ccMaxAge)
		if *seen&bit != 0 {
			return
		}
		*seen |= bit
	}
	switch d {
	case ccMaxAge, ccSMaxAge:
		// Invalid freshness information means stale (RFC 9111 Section 4.2.1).
		*cc.delta(d) = deltaOr(el, 0)
	case ccMinFresh, ccStaleWhileRevalidate, ccStaleIfError:
		*cc.delta(d) = deltaOr(el, -1)
	case ccMaxStale:
		cc.applyMaxStale(el)
	case ccNoCache:
		cc.noCacheFields, cc.noCache = qualifyCC(el, cc.noCacheFields, cc.noCache)
	case ccPrivate:
		cc.privateFields, cc.private = qualifyCC(el, cc.privateFields, cc.private)
	default:
		// A flag with an unexpected argument still counts.
		cc.applyFlag(d)
	}
}

// delta returns the field that holds directive d's delta-seconds.
func (cc *cacheControl) delta(d ccDirective) *int64 {
	switch d {
	case ccMaxAge:
		return &cc.maxAge
	case ccSMaxAge:
		return &cc.sMaxAge
	case ccMinFresh:
		return &cc.minFresh
	case ccStaleWhileRevalidate:
		return &cc.staleWhileRevalidate
	}
	return &cc.staleIfError
}

// applyMaxStale records a max-stale directive: without a value it accepts
// any staleness; with a malformed one it is ignored.
func (cc *cacheControl) applyMaxStale(el ccElement) {
	if !el.hasValue && !el.malformed {
		cc.maxStale, cc.maxStaleAny = maxDelta, true
		return
	}
	cc.maxStale = deltaOr(el, -1)
}

// applyFlag records a directive that takes no argument; ccUnknown is ignored.
func (cc *cacheControl) applyFlag(d ccDirective) {
	switch d {
	case ccNoStore:
		cc.noStore = true
	case ccPublic:
		cc.public = true
	case ccMustRevalidate:
		cc.mustRevalidate = true
	case ccProxyRevalidate:
		cc.proxyRevalidate = true
	case ccOnlyIfCached:
		cc.onlyIfCached = true
	case ccNoTransform:
		cc.noTransform = true
	case ccMustUnderstand:
		cc.mustUnderstand = true
	case ccImmutable:
		cc.immutable = true
	}
}

// deltaOr returns el's delta-seconds value, clamped to maxDelta, or
// bad when the value is missing or malformed. Only ASCII digits are valid.
// A quoted value (max-age="5") is accepted: RFC 9111 Section 5.2 says
// senders must not quote delta-seconds, but caches commonly accept it.
func deltaOr(el ccElement, bad int64) int64 {
	if !el.hasValue || el.malformed || el.value == "" {
		return bad
	}
	var n int64
	for i := 0; i < len(el.value); i++ {
		c := el.value[i]
		if c == '\\' && el.quoted && i+1 < len(el.value) {
			i++
			c = el.value[i]
		}
		if c < '0' || c > '9' {
			return bad
		}
		n = min(n*10+int64(c-'0'), maxDelta)
	}
	return n
}

// qualifyCC records a no-cache or private directive whose unqualified flag is
// flag and whose qualified form has listed fields so far. A value that is
// missing, malformed or names no valid field makes it unqualified, the more
// cautious reading.
func qualifyCC(el ccElement, fields []string, flag bool) ([]string, bool) {
	if !el.hasValue || el.malformed {
		return fields, true
	}
	fields, n := appendFieldNames(fields, unquoteCC(el))
	return fields, flag || n == 0
}

// appendFieldNames appends to fields, in canonical form and once each, the
// field names of the comma-separated list, and reports how many valid names
// the list held. Empty elements and names that are not tokens are skipped.
func appendFieldNames(fields []string, list string) ([]string, int) {
	n := 0
	for list != "" {
		var name string
		name, list, _ = strings.Cut(list, ",")
		name = trimOWS(name)
		if !isToken(name) {
			continue
		}
		n++
		if name = http.CanonicalHeaderKey(name); !slices.Contains(fields, name) {
			fields = append(fields, name)
		}
	}
	return fields, n
}

// unquoteCC returns el's value without its quoted-pair escapes.
func unquoteCC(el ccElement) string {
	if !el.quoted || strings.IndexByte(el.value, '\\') < 0 {
		return el.value
	}
	var b strings.Builder
	b.Grow(len(el.value))
	for i := 0; i < len(el.value); i++ {
		if el.value[i] == '\\' && i+1 < len(el.value) {
			i++
		}
		b.WriteByte(el.value[i])
	}
	return b.String()
}

// isCCDelim reports whether c ends a directive name or a token value.
func isCCDelim(c byte) bool {
	return c == ',' || c == '=' || c == '"' || isOWS(c)
}

// isOWS reports whether c is optional whitespace (SP or HTAB, RFC 9110 Section 5.6.3).
func isOWS(c byte) bool {
	return c == ' ' || c == '\t'
}

// skipOWS returns the index of the first byte at or after i that is not OWS.
func skipOWS(s string, i int) int {
	for i < len(s) && isOWS(s[i]) {
		i++
	}
	return i
}

// trimOWS returns s without leading and trailing OWS.
func trimOWS(s string) string {
	s = s[skipOWS(s, 0):]
	for len(s) > 0 && isOWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// isToken reports whether s is a non-empty token (RFC 9110 Section 5.6.2).
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return s != ""
}

// isTokenByte reports whether b is an RFC 9110 tchar.
func isTokenByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

// parseHTTPDate parses an HTTP-date (http.ParseTime formats); ok false when malformed.
// Callers treat a malformed Expires (such as "0") as already expired
// (RFC 9111 Section 5.3).
func parseHTTPDate(s string) (t time.Time, ok bool) {
	t, err := http.ParseTime(s)
	return t, err == nil
}
