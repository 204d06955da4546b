package httpcache

import (
	"bytes"
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
	if len(ims) != 1 || ims[0] == "" {
		return false // absent, or several values, which RFC 9110 Section 13.1.3 says to ignore
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

// validatesStored reports whether a 304's header h validates e (RFC 9111
// Section 4.3.4): a strong entity-tag must equal e's, a weak one must match
// it by the weak comparison; without one on either side, it does.
func validatesStored(e *Entry, h http.Header) bool {
	got, want := h.Get(headerETag), e.Header.Get(headerETag)
	if got == "" || want == "" {
		return true
	}
	if strings.HasPrefix(got, "W/") {
		return strings.TrimPrefix(got, "W/") == strings.TrimPrefix(want, "W/")
	}
	return got == want
}

// preconditionFields are the request fields whose answer (206, 412) depends
// on one client's state: a fill never sends them to the handler.
var preconditionFields = [...]string{"Range", "If-Range", "If-Match", "If-Unmodified-Since"}

// partialOrPrecondition reports whether h asks for part of a response or
// states a precondition other than If-None-Match and If-Modified-Since. A
// Range in a unit other than bytes is ignored, as RFC 9110 Section 14.2
// requires.
func partialOrPrecondition(h http.Header) bool {
	for _, name := range preconditionFields[1:] {
		if len(h[name]) > 0 {
			return true
		}
	}
	return bytesRange(h)
}

// bytesRange reports whether h has a Range field in bytes.
func bytesRange(h http.Header) bool {
	rg := h["Range"]
	return len(rg) > 0 && len(rg[0]) >= 6 && strings.EqualFold(rg[0][:6], "bytes=")
}

// serveRange answers a Range or precondition request from a complete
// entry, with http.ServeContent's handling of Range, If-Range, If-Match and
// If-Unmodified-Since (RFC 9110 Sections 13 and 14.2, RFC 9111 Section 3.4).
// A 412 it sends carries none of the entry's freshness: it answers one
// client's precondition, and no cache downstream may store it.
func serveRange(w http.ResponseWriter, r *http.Request, e *Entry) {
	h := w.Header()
	if _, typed := h["Content-Type"]; !typed {
		h["Content-Type"] = nil // never sniffed: the entry said no type
	}
	if !bytesRange(r.Header) {
		// Not a Range request: ignore any other unit, and keep the stored
		// length, which a HEAD needs.
		r = r.Clone(r.Context())
		delete(r.Header, "Range")
	} else {
		delete(h, headerContentLen) // ServeContent sets the range's own
	}
	modified, _ := parseHTTPDate(e.Header.Get(headerLastModified))
	http.ServeContent(&preconditionWriter{ResponseWriter: w}, r, "", modified, bytes.NewReader(e.Body))
}

// preconditionWriter strips the entry's freshness and representation fields
// from a 412 Precondition Failed.
type preconditionWriter struct{ http.ResponseWriter }

func (w *preconditionWriter) WriteHeader(code int) {
	if code == http.StatusPreconditionFailed {
		h := w.Header()
		for _, name := range [...]string{"Expires", "Etag", "Last-Modified", "Content-Encoding", "Content-Type", "Content-Length", headerAge} {
			delete(h, name)
		}
		h[headerCacheControl] = []string{"no-store"}
	}
	if code == http.StatusRequestedRangeNotSatisfiable {
		h := w.Header()
		delete(h, "Expires")
		delete(h, headerAge)
		h[headerCacheControl] = []string{"no-store"}
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap returns the client's writer, for http.ResponseController.
func (w *preconditionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
