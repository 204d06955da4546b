package httpcache

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// recorder is the writer a fill's handler writes to. It passes the response
// to the client as it is produced and captures it for the store, with the
// semantics of httptest.ResponseRecorder: the first WriteHeader wins, Write
// implies 200, 1xx responses pass through unrecorded, and the header is
// snapshotted when the status is written.
//
// It has no ReadFrom (it would bypass capture), no CloseNotify and no Push.
// Flush and Hijack are observed and delegated through
// http.NewResponseController, and Unwrap exposes the client's writer.
type recorder struct {
	rw  http.ResponseWriter // the client's writer, or discard for refreshes
	c   *Cache
	req *http.Request
	fl  *fillState
	own http.Header // the handler's header while its response may be held back; nil otherwise
	pre http.Header // the fields outer middleware set before the fill; nil if none

	status      int
	wroteHeader bool
	snapshot    http.Header // what is stored, cloned at commit; nil when not stored
	body        []byte
	capturing   bool // the response is still a candidate for the store
	held        bool // the response is held back from the client (304 or 5xx of a refresh)
	flushed     bool
	clientGone  bool
	hijacked    bool
	respTime    time.Time
	typed       bool   // the response has a Content-Type, maybe from outer middleware
	heldBody    []byte // the body of a held-back error, to replay if stale cannot answer
	staleChosen bool   // a stale entry answers the held-back error, whatever its size
	verdict     verdict
	headerTags  []string
}

var (
	_ http.ResponseWriter = (*recorder)(nil)
	_ http.Flusher        = (*recorder)(nil)
	_ http.Hijacker       = (*recorder)(nil)
)

// Header returns the map the handler writes its header fields into: the
// client's, unless the response may be held back from the client.
func (w *recorder) Header() http.Header {
	if w.own != nil {
		return w.own
	}
	return w.rw.Header()
}

// forward writes status to the client, with the handler's header fields if
// they were kept apart.
func (w *recorder) forward(status int) {
	if w.own != nil {
		replaceHeader(w.rw.Header(), w.own)
		if status >= 200 {
			w.own = nil // trailers set after the body go to the client's map
		}
	}
	w.rw.WriteHeader(status)
}

// replayHeld sends the client the error response that was held back for
// stale-if-error, when no stale entry can answer after all.
func (w *recorder) replayHeld() {
	w.held = false
	w.verdict.reason = "status" // waiters try again
	h := w.Header()
	stripCacheFields(h)
	if w.staleChosen {
		delete(h, headerContentLen) // the body was dropped
	}
	if w.fl.clientStatus {
		prependCacheStatus(h, fillStatus(w.fl.fwd, false))
	}
	w.forward(w.status)
	if len(w.heldBody) > 0 {
		w.rw.Write(w.heldBody) //nolint:errcheck // the client hung up; nothing to tell it
	}
}

// Unwrap returns the client's writer, so that http.ResponseController
// reaches its deadlines and connection.
func (w *recorder) Unwrap() http.ResponseWriter { return w.rw }

// WriteHeader commits the status. 1xx codes other than 101 go to the client
// at once and are not recorded.
func (w *recorder) WriteHeader(code int) {
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		if !w.wroteHeader && !w.held {
			w.headerTags = append(w.headerTags, takeHeaderTags(w.c, w.req, w.Header(), w.fl.st)...)
			withoutCacheFields(w.Header(), func() { w.forward(code) })
		}
		return
	}
	if w.wroteHeader {
		if !w.held {
			w.rw.WriteHeader(code) // let net/http report the superfluous call
		}
		return
	}
	w.wroteHeader = true
	w.status = code
	w.respTime = now()
	w.commit()
	if !w.held {
		w.forward(code)
	}
}

// commit decides, when the status is written, whether the response can be
// stored and whether the client sees it now.
func (w *recorder) commit() {
	h := w.Header()
	w.headerTags = append(w.headerTags, takeHeaderTags(w.c, w.req, h, w.fl.st)...)
	if w.fl.holdStatus(w.status) {
		w.held = true
		w.capturing = false
		if w.status >= 500 && w.fl.det != nil {
			w.fl.det.unshared() // an error is for this client alone
		}
		return
	}
	policy := w.fl.st.policyOr(w.c)
	w.verdict = policy.judge(w.status, judgedHeader(h, w.pre), w.fl.reqTime, w.respTime)
	if reason := w.fl.st.refusal(); reason != "" && w.verdict.reason == "" {
		w.verdict.reason = reason
	}
	if w.verdict.reason != "" {
		w.unshare(w.verdict.reason)
	} else {
		w.snapshot = storedHeader(handlerHeader(h, w.pre), w.verdict.dropFields, w.respTime)
		_, w.typed = h["Content-Type"]
	}
	delete(h, headerSurrogateControl) // addressed to surrogates, not clients
	if w.fl.clientStatus {
		prependCacheStatus(h, fillStatus(w.fl.fwd, w.capturing))
	}
}

// judgedHeader returns the fields that decide whether a response is stored:
// all of h, outer middleware's included (its Vary or Cache-Control: private
// count), except a Set-Cookie that outer middleware set for this client
// alone and the handler left as it was, which is not stored anyway.
func judgedHeader(h, pre http.Header) http.Header {
	if sc, ok := pre["Set-Cookie"]; !ok || !slices.Equal(sc, h["Set-Cookie"]) {
		return h
	}
	j := h.Clone()
	delete(j, "Set-Cookie")
	return j
}

// handlerHeader returns the fields of h the handler set: those that differ
// from what outer middleware had set before the fill (pre). Only they are
// stored: outer middleware sets its own fields again on every response
// (a request id, a session cookie belong to one client).
func handlerHeader(h, pre http.Header) http.Header {
	if len(pre) == 0 {
		return h
	}
	own := make(http.Header, len(h))
	for k, vv := range h {
		if old, ok := pre[k]; !ok || !slices.Equal(old, vv) {
			own[k] = vv
		}
	}
	return own
}

// unshare marks the response as not stored; waiters of the fill are
// released at once to run the handler themselves.
func (w *recorder) unshare(reason string) {
	if !w.capturing {
		return
	}
	w.capturing = false
	w.body = nil
	w.snapshot = nil
	w.fl.unshareable(reason, w.status)
}

// Write captures p while the response can be stored, and passes it to the
// client. While the response is still a candidate for the store, a client
// that hung up does not stop it: the fill completes for the waiters and the
// store. Once it is not, the client's error is returned so that the
// handler stops.
func (w *recorder) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.capturing {
		if int64(len(w.body)+len(p)) > w.c.cfg.maxBody {
			w.unshare("too large")
		} else {
			w.body = append(w.body, p...)
		}
	}
	if w.held {
		switch {
		case w.status < 500: // a 304 has no body to keep
			return len(p), nil
		case w.staleChosen || int64(len(w.heldBody)+len(p)) <= w.c.cfg.maxBody:
			if !w.staleChosen {
				w.heldBody = append(w.heldBody, p...)
			}
			return len(p), nil
		case w.fl.staleOK():
			// Too large to hold back, but a stale entry will answer: the
			// rest of the error is dropped.
			w.staleChosen, w.heldBody = true, nil
			return len(p), nil
		}
		w.replayHeld() // too large to hold back: the client gets the error
	}
	if w.clientGone {
		if w.capturing {
			return len(p), nil
		}
		return 0, net.ErrClosed
	}
	n, err := w.rw.Write(p)
	if err != nil {
		w.clientGone = true
		if w.capturing && !w.flushed {
			return len(p), nil
		}
		// A stream whose client left: the handler stops on this error,
		// so what was captured is incomplete.
		w.unshare("client gone")
	}
	return n, err
}

// FlushError sends what was written to the client at once. A flushing
// response is a stream: waiters of the fill stop waiting for it, though it
// is still stored if it completes within the limits.
func (w *recorder) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.flushed {
		w.flushed = true
		w.fl.release()
		if w.fl.det != nil {
			w.fl.det.unshared()
		}
	}
	if w.held {
		return nil
	}
	if w.clientGone {
		w.unshare("client gone")
		return net.ErrClosed
	}
	err := http.NewResponseController(w.rw).Flush()
	if err != nil && !errors.Is(err, http.ErrNotSupported) {
		w.clientGone = true
		w.unshare("client gone")
	}
	return err
}

// Flush implements http.Flusher; see FlushError.
func (w *recorder) Flush() { _ = w.FlushError() }

// Hijack hands the connection to the handler; the response is not stored.
func (w *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.unshare("hijacked")
	conn, brw, err := http.NewResponseController(w.rw).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return conn, brw, err
}

// entry returns the captured response as an entry, or nil when it cannot be
// stored. reqHeader is the request whose header fields the entry varies on.
func (w *recorder) entry(reqHeader http.Header) *Entry {
	if !w.capturing || !w.wroteHeader || w.held {
		return nil
	}
	h := w.snapshot
	if cl := h.Get(headerContentLen); cl != "" && cl != strconv.Itoa(len(w.body)) {
		return nil // the handler stopped short of what it announced
	}
	completeHeader(h, w.status, w.body, w.typed)
	v := &w.verdict
	return &Entry{
		Status:               w.status,
		Header:               h,
		Body:                 w.body,
		RequestTime:          w.fl.reqTime,
		ResponseTime:         w.respTime,
		InitialAge:           v.initialAge,
		Lifetime:             v.lifetime,
		StaleWhileRevalidate: v.swr,
		StaleIfError:         v.sie,
		MustRevalidate:       v.mustReval,
		NoCache:              v.noCache,
		Vary:                 v.vary,
		RequestHeader:        varyValues(v.vary, reqHeader),
	}
}

// discard is the client of a background refresh: it has a header map and
// drops everything else.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}
func (d *discard) FlushError() error           { return nil }

// replaceHeader makes dst hold exactly src's fields.
func replaceHeader(dst, src http.Header) {
	for k := range dst {
		if _, ok := src[k]; !ok {
			delete(dst, k)
		}
	}
	for k, vv := range src {
		dst[k] = vv
	}
}
