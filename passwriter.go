package httpcache

import (
	"bufio"
	"net"
	"net/http"
)

// passWriter passes a response the cache does not store to the client,
// removing the fields meant for the cache (tag fields, Surrogate-Control)
// and, for an unsafe method, invalidating what the response names as soon
// as its status says the request succeeded.
type passWriter struct {
	rw          http.ResponseWriter
	c           *Cache
	r           *http.Request
	unsafe      bool      // invalidate on a 2xx or 3xx status
	st          *reqState // the request's state; its parent's response includes this one
	wroteHeader bool
}

var (
	_ http.Flusher  = (*passWriter)(nil)
	_ http.Hijacker = (*passWriter)(nil)
)

func (w *passWriter) Header() http.Header { return w.rw.Header() }

// Unwrap returns the client's writer, for http.ResponseController.
func (w *passWriter) Unwrap() http.ResponseWriter { return w.rw }

// WriteHeader strips the cache's fields from what it sends. An interim
// (1xx) response is sent without them, and they stay for the final status,
// which may need them (Cache-Group-Invalidation).
func (w *passWriter) WriteHeader(code int) {
	switch {
	case w.wroteHeader:
	case code < 200 && code != http.StatusSwitchingProtocols:
		withoutCacheFields(w.rw.Header(), func() { w.rw.WriteHeader(code) })
		return
	case w.unsafe && code >= 200:
		w.wroteHeader = true
		w.invalidate(code)
	default:
		w.wroteHeader = true
		h := w.rw.Header()
		if w.st != nil && w.st.parent != nil {
			// A sub-request's tags are the outer response's too.
			w.st.parent.addRaw(takeHeaderTags(w.c, w.r, h, w.st.parent))
		}
		stripCacheFields(h)
	}
	w.rw.WriteHeader(code)
}

func (w *passWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.rw.Write(p)
}

func (w *passWriter) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return http.NewResponseController(w.rw).Flush()
}

func (w *passWriter) Flush() { _ = w.FlushError() }

func (w *passWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.rw).Hijack()
	if err == nil {
		w.wroteHeader = true // nothing is written through w any more
	}
	return conn, brw, err
}

// cacheFields are the response fields meant for the cache, never for the
// client.
var cacheFields = [...]string{cacheTagHeader, surrogateKeyHeader, cacheGroupsHeader, cacheGroupInvalidationHeader, headerSurrogateControl}

// stripCacheFields removes the fields meant for the cache from h.
func stripCacheFields(h http.Header) {
	for _, name := range cacheFields {
		delete(h, name)
	}
}

// withoutCacheFields runs send with the cache's fields removed from h, and
// puts them back afterwards: an interim response must not carry them, and
// the final one is judged with them.
func withoutCacheFields(h http.Header, send func()) {
	var saved [len(cacheFields)][]string
	for i, name := range cacheFields {
		saved[i] = h[name]
		delete(h, name)
	}
	send()
	for i, name := range cacheFields {
		if saved[i] != nil {
			h[name] = saved[i]
		}
	}
}
