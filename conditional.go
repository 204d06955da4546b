package httpcache

import (
	"net/http"
	"strings"
)

// notModified reports whether r is a conditional GET or HEAD that e
// satisfies, so that 304 Not Modified answers it (RFC 9110 Section 13.2.2).
// If-None-Match takes precedence over If-Modified-Since, as in
// http.ServeContent.
func notModified(r *http.Request, e *Entry) bool {
	if e.Status < 200 || e.Status > 299 {
		return false
	}
	if inm := r.Header["If-None-Match"]; len(inm) > 0 {
		// "*" matches any current representation, with or without an ETag.
		return etagListMatches(inm, e.Header.Get(headerETag))
	}
	ims := r.Header["If-Modified-Since"] // canonical: Get would canonicalize it again
	if len(ims) == 0 || ims[0] == "" {
		return false
	}
	since, ok := parseHTTPDate(ims[0])
	if !ok {
		return false
	}
	lm := e.Header.Get(headerLastModified)
	if lm == "" {
		lm = e.Header.Get(headerDate)
	}
	modified, ok := parseHTTPDate(lm)
	return ok && !modified.After(since)
}

// etagListMatches reports whether any entity-tag in the If-None-Match field
// lines matches etag by the weak comparison (RFC 9110 Section 8.8.3.2), or
// the field is "*".
func etagListMatches(lines []string, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for _, line := range lines {
		for line != "" {
			var tag string
			tag, line = nextETag(line)
			if tag == "*" || (tag != "" && want != "" && strings.TrimPrefix(tag, "W/") == want) {
				return true
			}
		}
	}
	return false
}

// nextETag returns the first entity-tag of a comma-separated list and the
// rest of the list. A malformed element is returned as "" and skipped.
func nextETag(s string) (tag, rest string) {
	s = strings.TrimLeft(s, " \t,")
	if s == "" {
		return "", ""
	}
	if s[0] == '*' {
		return "*", s[1:]
	}
	start := 0
	if strings.HasPrefix(s, "W/") {
		start = 2
	}
	if len(s) <= start || s[start] != '"' {
		i := strings.IndexByte(s, ',')
		if i < 0 {
			return "", ""
		}
		return "", s[i+1:]
	}
	end := strings.IndexByte(s[start+1:], '"')
	if end < 0 {
		return "", ""
	}
	end += start + 2
	return s[:end], s[end:]
}

// sameStrongETag reports whether a 304's header h validates e: unless both
// carry a strong entity-tag and the two differ, it does.
func sameStrongETag(e *Entry, h http.Header) bool {
	got, want := h.Get(headerETag), e.Header.Get(headerETag)
	if got == "" || want == "" || strings.HasPrefix(got, "W/") || strings.HasPrefix(want, "W/") {
		return true
	}
	return got == want
}
