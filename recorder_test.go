package httpcache

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// counted returns f as a handler, and the count of its calls.
func counted(f http.HandlerFunc) (http.Handler, *atomic.Int64) {
	calls := new(atomic.Int64)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		f(w, r)
	}), calls
}

// isHit reports whether w was served from a stored entry.
func isHit(w *httptest.ResponseRecorder) bool {
	return strings.HasPrefix(w.Header().Get("Cache-Status"), "httpcache; hit")
}

func TestRecorderStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		h      http.HandlerFunc
		status int
		body   string
	}{
		{"first WriteHeader wins", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			w.WriteHeader(http.StatusCreated)
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "a")
		}, http.StatusCreated, "a"},
		{"Write implies 200", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			io.WriteString(w, "b")
			w.WriteHeader(http.StatusNotFound)
		}, http.StatusOK, "b"},
		{"silent handler is 200", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
		}, http.StatusOK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, calls := counted(tc.h)
			c := New()
			defer c.Close()
			ch := c.Handler(h)

			checkResponse(t, do(t, ch, "GET", "/"), tc.status, tc.body, statusStored)
			checkResponse(t, do(t, ch, "GET", "/"), tc.status, tc.body, "httpcache; hit; ttl=60")
			assert.EqualValues(t, 1, calls.Load())
		})
	}
}

func TestRecorderSnapshotsHeaderAtCommit(t *testing.T) {
	t.Parallel()
	h, _ := counted(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("X-Before", "kept")
		w.WriteHeader(http.StatusOK)
		w.Header().Set("X-After", "late")
		w.Header()["X-Before"][0] = "changed after commit"
		io.WriteString(w, "x")
	})
	c := New()
	defer c.Close()
	ch := c.Handler(h)
	do(t, ch, "GET", "/")
	w := do(t, ch, "GET", "/")
	require.True(t, isHit(w))
	assert.Equal(t, "kept", w.Header().Get("X-Before"))
	assert.Empty(t, w.Header().Get("X-After"))
}

// TestRecorderEarlyHints checks that a 103 goes to the client at once and
// is neither recorded as the status nor replayed by a hit.
func TestRecorderEarlyHints(t *testing.T) {
	t.Parallel()
	run(t, func(t *testing.T, m mode) {
		h, calls := counted(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", "</style.css>; rel=preload; as=style")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Set("Cache-Control", "max-age=60")
			io.WriteString(w, "page")
		})
		c := New()
		defer c.Close()
		s := newSmokeServer(t, m, c.Handler(h))

		for i, wantHints := range []int{1, 0} {
			var mu sync.Mutex
			var hints []textproto.MIMEHeader
			ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
				Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
					mu.Lock()
					defer mu.Unlock()
					assert.Equal(t, http.StatusEarlyHints, code)
					hints = append(hints, h)
					return nil
				},
			})
			resp, body := s.roundTrip(t, ctx, "GET", "/")
			assert.Equal(t, 200, resp.StatusCode, "request %d", i)
			assert.Equal(t, "page", body, "request %d", i)
			mu.Lock()
			if assert.Len(t, hints, wantHints, "request %d", i) && wantHints > 0 {
				assert.Equal(t, "</style.css>; rel=preload; as=style", hints[0].Get("Link"))
			}
			mu.Unlock()
		}
		assert.EqualValues(t, 1, calls.Load())
	})
}

// TestRecorderFlush checks that a flush reaches the client while the
// handler still runs, and that the streamed response, complete within the
// limits, is stored.
func TestRecorderFlush(t *testing.T) {
	t.Parallel()
	run(t, func(t *testing.T, m mode) {
		release := make(chan struct{})
		h, calls := counted(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			io.WriteString(w, "first")
			assert.NoError(t, http.NewResponseController(w).Flush())
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
			io.WriteString(w, "second")
		})
		c := New()
		defer c.Close()
		s := newSmokeServer(t, m, c.Handler(h))

		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second) // fails a flush that never arrives
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, "GET", s.URL+"/", nil)
		require.NoError(t, err)
		resp, err := s.client.Do(req)
		require.NoError(t, err)
		first := make([]byte, len("first"))
		_, err = io.ReadFull(resp.Body, first)
		require.NoError(t, err, "the flushed bytes reach the client before the handler returns")
		assert.Equal(t, "first", string(first))
		close(release)
		rest, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, "second", string(rest))
		s.wait(t)

		resp, body := s.roundTrip(t, t.Context(), "GET", "/")
		assert.Equal(t, "firstsecond", body)
		assert.Regexp(t, hitStatusRE, resp.Header.Get("Cache-Status"))
		assert.EqualValues(t, 1, calls.Load(), "a stream complete within the limits is stored")
	})
}

func TestRecorderEventStreamNotStored(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, contentType string }{
		{"plain", "text/event-stream"},
		{"with parameter", "text/event-stream; charset=utf-8"},
		{"upper case", "Text/Event-Stream"}, // media types are case-insensitive (RFC 9110 Section 8.3.1)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := newOrigin("data: 1\n\n", "Cache-Control", "max-age=60", "Content-Type", tc.contentType)
			c := New()
			defer c.Close()
			h := c.Handler(o)
			checkResponse(t, do(t, h, "GET", "/events"), 200, "data: 1\n\n", statusMiss)
			checkResponse(t, do(t, h, "GET", "/events"), 200, "data: 1\n\n", statusMiss)
			assert.EqualValues(t, 2, o.calls.Load())
		})
	}
}

// TestRecorderHijack checks that a hijacked response works and is not
// stored, and that the cache does not touch the hijacked writer.
func TestRecorderHijack(t *testing.T) {
	t.Parallel()
	run(t, func(t *testing.T, m mode) {
		h, calls := counted(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			conn, brw, err := http.NewResponseController(w).Hijack()
			if m == http2Mode {
				assert.ErrorIs(t, err, http.ErrNotSupported)
				io.WriteString(w, "hijack")
				return
			}
			if !assert.NoError(t, err) {
				return
			}
			defer conn.Close()
			brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhijack")
			assert.NoError(t, brw.Flush())
		})
		c := New()
		defer c.Close()
		s := newSmokeServer(t, m, c.Handler(h))

		for range 2 {
			resp, body := s.roundTrip(t, t.Context(), "GET", "/")
			assert.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "hijack", body)
		}
		assert.EqualValues(t, 2, calls.Load(), "a hijacked response is not stored")
		assert.Empty(t, s.errLog.String(), "net/http logged a misuse of the writer")
	})
}

func TestRecorderMaxBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		writes []string
		stored bool
	}{
		{"one write over", []string{"123456789"}, false},
		{"writes crossing the limit", []string{"12345", "67890"}, false},
		{"exactly the limit", []string{"1234", "5678"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, calls := counted(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=60")
				for _, s := range tc.writes {
					io.WriteString(w, s)
				}
			})
			c := New(WithMaxBodyBytes(8))
			defer c.Close()
			ch := c.Handler(h)
			want := strings.Join(tc.writes, "")
			for range 2 {
				w := do(t, ch, "GET", "/")
				assert.Equal(t, 200, w.Code)
				assert.Equal(t, want, w.Body.String(), "the client gets the whole body")
			}
			assert.EqualValues(t, map[bool]int64{true: 1, false: 2}[tc.stored], calls.Load())
		})
	}
}

// deadlineWriter is a client writer that supports write deadlines.
type deadlineWriter struct {
	*httptest.ResponseRecorder
	deadline time.Time
}

func (w *deadlineWriter) SetWriteDeadline(t time.Time) error {
	w.deadline = t
	return nil
}

// TestRecorderResponseController checks that http.ResponseController reaches
// the client's writer through the cache's recorder (model: reverseproxy_test.go
// TestReverseProxyResponseControllerFlushInterval).
func TestRecorderResponseController(t *testing.T) {
	t.Parallel()
	handler := func(errs chan<- error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			rc := http.NewResponseController(w)
			errs <- rc.SetWriteDeadline(time.Now().Add(time.Minute))
			errs <- rc.SetReadDeadline(time.Now().Add(time.Minute))
			io.WriteString(w, "ok")
		}
	}

	t.Run("custom writer", func(t *testing.T) {
		t.Parallel()
		errs := make(chan error, 2)
		c := New()
		defer c.Close()
		dw := &deadlineWriter{ResponseRecorder: httptest.NewRecorder()}
		c.Handler(handler(errs)).ServeHTTP(dw, httptest.NewRequest("GET", "/", nil))
		assert.NoError(t, <-errs)
		assert.ErrorIs(t, <-errs, http.ErrNotSupported)
		assert.False(t, dw.deadline.IsZero(), "the deadline reached the client's writer")
		assert.Equal(t, "ok", dw.Body.String())
	})

	run(t, func(t *testing.T, m mode) {
		errs := make(chan error, 2)
		c := New()
		defer c.Close()
		s := newSmokeServer(t, m, c.Handler(handler(errs)))
		_, body := s.roundTrip(t, t.Context(), "GET", "/")
		assert.NoError(t, <-errs, "SetWriteDeadline")
		assert.NoError(t, <-errs, "SetReadDeadline")
		assert.Equal(t, "ok", body)
	})
}

// TestRecorderReplayCopiesHeader checks that a hit's header map is a copy:
// changing one response's values, in place or by append, never reaches the
// entry, another hit, or another field.
func TestRecorderReplayCopiesHeader(t *testing.T) {
	t.Parallel()
	o := newOrigin("x", "Cache-Control", "max-age=60", "Content-Type", "text/plain",
		"X-Multi", "a", "X-Multi", "b", "X-One", "1", "X-Two", "2")
	c := New()
	defer c.Close()
	h := c.Handler(o)

	mutate := func(hdr http.Header) {
		hdr["X-Multi"][0] = "mutated"
		hdr["X-Multi"] = append(hdr["X-Multi"][:1], "appended", "more")
		hdr["Content-Type"][0] = "text/evil"
		for _, name := range []string{"X-One", "X-Two"} {
			hdr[name] = append(hdr[name], "appended") // must not overwrite a neighbour
		}
		hdr.Del("Cache-Control")
	}
	check := func(hdr http.Header) {
		t.Helper()
		assert.Equal(t, []string{"a", "b"}, hdr["X-Multi"])
		assert.Equal(t, []string{"text/plain"}, hdr["Content-Type"])
		assert.Equal(t, []string{"1"}, hdr["X-One"])
		assert.Equal(t, []string{"2"}, hdr["X-Two"])
		assert.Equal(t, []string{"max-age=60"}, hdr["Cache-Control"])
	}

	miss := do(t, h, "GET", "/")
	mutate(miss.Header())
	hit := do(t, h, "GET", "/")
	require.True(t, isHit(hit))
	check(hit.Header())

	mutate(hit.Header())
	assert.Equal(t, []string{"appended"}, hit.Header()["X-One"][1:], "append on one field")
	assert.Equal(t, []string{"2", "appended"}, hit.Header()["X-Two"], "append did not reach a neighbour")
	again := do(t, h, "GET", "/")
	require.True(t, isHit(again))
	check(again.Header())
	assert.EqualValues(t, 1, o.calls.Load())
}

func TestRecorderContentLengthMismatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, contentLength, body string
		stored                    bool
	}{
		{"promises more", "10", "short", false},
		{"promises less", "3", "longer", false},
		{"keeps its promise", "5", "exact", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := newOrigin(tc.body, "Cache-Control", "max-age=60", "Content-Length", tc.contentLength)
			c := New()
			defer c.Close()
			h := c.Handler(o)
			do(t, h, "GET", "/")
			w := do(t, h, "GET", "/")
			assert.Equal(t, tc.stored, isHit(w), "Cache-Status %q", w.Header().Get("Cache-Status"))
			assert.EqualValues(t, map[bool]int64{true: 1, false: 2}[tc.stored], o.calls.Load())
		})
	}
}

// Compile-time check that the writer used above is a ResponseWriter.
var _ http.ResponseWriter = (*deadlineWriter)(nil)
