package httpcache

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// origin is a handler that counts its calls and answers with the header
// fields and body it is given.
type origin struct {
	calls  atomic.Int64
	status int
	header http.Header
	body   string
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.calls.Add(1)
	for k, vv := range o.header {
		w.Header()[k] = append([]string(nil), vv...)
	}
	if o.status != 0 {
		w.WriteHeader(o.status)
	}
	io.WriteString(w, o.body)
}

func newOrigin(body string, kv ...string) *origin {
	o := &origin{header: http.Header{}, body: body}
	for i := 0; i+1 < len(kv); i += 2 {
		o.header.Add(kv[i], kv[i+1])
	}
	return o
}

// do serves one request through h and returns the recorded response.
func do(t testing.TB, h http.Handler, method, target string, kv ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(kv); i += 2 {
		r.Header.Add(kv[i], kv[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// checkResponse asserts a response's status, body and Cache-Status.
func checkResponse(t testing.TB, w *httptest.ResponseRecorder, status int, body, cacheStatus string) {
	t.Helper()
	require.NotNil(t, w)
	assert.Equal(t, status, w.Code, "status")
	assert.Equal(t, body, w.Body.String(), "body")
	assert.Equal(t, cacheStatus, w.Header().Get("Cache-Status"), "Cache-Status")
}

// contextWithCancel returns a cancellable context derived from r's.
func contextWithCancel(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithCancel(r.Context())
}

// discardLogger returns a logger that drops everything.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// anonymousOnly returns a KeyFunc that keys requests as base does, but
// bypasses those with a session cookie: a route whose pages are personal.
func anonymousOnly(base KeyFunc) KeyFunc {
	return func(r *http.Request) string {
		if strings.Contains(r.Header.Get("Cookie"), "sid=") {
			return "" // personalised: bypass
		}
		return base(r)
	}
}

// greeter greets the session's user, or a guest.
var greeter = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie("sid"); err == nil {
		io.WriteString(w, "hello "+ck.Value)
		return
	}
	io.WriteString(w, "hello guest")
})
