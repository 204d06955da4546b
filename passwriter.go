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
	unsafe      bool // invalidate on a 2xx or 3xx status
	wroteHeader bool
}

var (
	_ http.Flusher  = (*passWriter)(nil)
	_ http.Hijacker = (*passWriter)(nil)
)

func (w *passWriter) Header() http.Header { return w.rw.Header() }

// Unwrap returns the client's writer, for http.ResponseController.
func (w *passWriter) Unwrap() http.ResponseWriter { return w.rw }

func (w *passWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		if w.unsafe && code >= 200 {
			w.invalidate(code)
		} else {
			h := w.rw.Header()
			stripTagHeaders(h)
			delete(h, headerSurrogateControl)
		}
		w.wroteHeader = code >= 200
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
	w.wroteHeader = true
	return http.NewResponseController(w.rw).Hijack()
}
