package httpcache

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mode is the protocol a real round trip runs over.
type mode string

const (
	http1Mode mode = "h1"
	http2Mode mode = "h2"
)

// run runs f once per protocol, in parallel subtests (net/http's run(t, f)
// harness).
func run(t *testing.T, f func(t *testing.T, m mode)) {
	t.Helper()
	for _, m := range []mode{http1Mode, http2Mode} {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			f(t, m)
		})
	}
}

// smokeServer is a real server in front of h. served receives a value each
// time h's ServeHTTP returns, so a test knows a fill finished (and was
// stored) before its next request; errLog holds what net/http logged.
type smokeServer struct {
	*httptest.Server
	client *http.Client
	served chan struct{}
	errLog *lockedBuffer
}

// newSmokeServer starts h over m; the server and its client's idle
// connections are closed when the test ends.
func newSmokeServer(t *testing.T, m mode, h http.Handler) *smokeServer {
	t.Helper()
	s := &smokeServer{served: make(chan struct{}, 64), errLog: &lockedBuffer{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { s.served <- struct{}{} }()
		h.ServeHTTP(w, r)
	}))
	s.Config.ErrorLog = log.New(s.errLog, "", 0)
	if m == http2Mode {
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s.Start()
	}
	s.client = s.Client()
	t.Cleanup(func() {
		s.client.CloseIdleConnections()
		s.Close()
	})
	return s
}

// roundTrip sends a request over the real connection, reads the whole body
// and waits until the server's handler returned.
func (s *smokeServer) roundTrip(t *testing.T, ctx context.Context, method, path string, kv ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Add(kv[i], kv[i+1])
	}
	resp, err := s.client.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	s.wait(t)
	return resp, string(body)
}

// wait blocks until one more request's handler returned, or the test's
// deadline guard fires.
func (s *smokeServer) wait(t *testing.T) {
	t.Helper()
	select {
	case <-s.served:
	case <-time.After(10 * time.Second): // a failure guard, not a sleep
		require.FailNow(t, "the handler did not return")
	}
}

// checkProto asserts that resp came over m.
func checkProto(t *testing.T, m mode, resp *http.Response) {
	t.Helper()
	want := map[mode]int{http1Mode: 1, http2Mode: 2}[m]
	assert.Equal(t, want, resp.ProtoMajor, "protocol")
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// hitStatusRE matches the Cache-Status of a fresh hit of a 60 s entry a
// second may have aged.
var hitStatusRE = regexp.MustCompile(`^httpcache; hit; ttl=(59|60)$`)

func TestSmokeMissHit(t *testing.T) {
	t.Parallel()
	run(t, func(t *testing.T, m mode) {
		o := newOrigin("hello", "Cache-Control", "max-age=60", "Content-Type", "text/plain")
		c := New()
		defer c.Close()
		s := newSmokeServer(t, m, c.Handler(o))

		resp, body := s.roundTrip(t, t.Context(), "GET", "/a")
		checkProto(t, m, resp)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "hello", body)
		assert.Equal(t, statusStored, resp.Header.Get("Cache-Status"))
		assert.Empty(t, resp.Header.Get("Age"), "a miss has no Age")

		resp, body = s.roundTrip(t, t.Context(), "GET", "/a")
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "hello", body)
		assert.Regexp(t, hitStatusRE, resp.Header.Get("Cache-Status"))
		assert.Contains(t, []string{"0", "1"}, resp.Header.Get("Age"))
		assert.Equal(t, "text/plain", resp.Header.Get("Content-Type"))
		assert.EqualValues(t, 5, resp.ContentLength)
		assert.EqualValues(t, 1, o.calls.Load())
	})
}

func TestSmokeHEADFromGET(t *testing.T) {
	t.Parallel()
	run(t, func(t *testing.T, m mode) {
		o := newOrigin("hello", "Cache-Control", "max-age=60")
		c := New()
		defer c.Close()
		s := newSmokeServer(t, m, c.Handler(o))

		s.roundTrip(t, t.Context(), "GET", "/")
		resp, body := s.roundTrip(t, t.Context(), "HEAD", "/")
		checkProto(t, m, resp)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Empty(t, body)
		assert.EqualValues(t, 5, resp.ContentLength)
		assert.Regexp(t, hitStatusRE, resp.Header.Get("Cache-Status"))
		assert.EqualValues(t, 1, o.calls.Load())
	})
}

func TestSmokeNotModified(t *testing.T) {
	t.Parallel()
	run(t, func(t *testing.T, m mode) {
		o := newOrigin("hello", "Cache-Control", "max-age=60", "ETag", `"v1"`)
		c := New()
		defer c.Close()
		s := newSmokeServer(t, m, c.Handler(o))

		s.roundTrip(t, t.Context(), "GET", "/")
		resp, body := s.roundTrip(t, t.Context(), "GET", "/", "If-None-Match", `"v1"`)
		checkProto(t, m, resp)
		assert.Equal(t, http.StatusNotModified, resp.StatusCode)
		assert.Empty(t, body)
		assert.Equal(t, `"v1"`, resp.Header.Get("ETag"))
		assert.Regexp(t, hitStatusRE, resp.Header.Get("Cache-Status"))

		resp, body = s.roundTrip(t, t.Context(), "GET", "/", "If-None-Match", `"v0"`)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "hello", body)
		assert.EqualValues(t, 1, o.calls.Load())
	})
}

func TestSmokeUnsafeInvalidates(t *testing.T) {
	t.Parallel()
	run(t, func(t *testing.T, m mode) {
		var version atomic.Int64
		var calls atomic.Int64
		c := New()
		defer c.Close()
		s := newSmokeServer(t, m, c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			if r.Method == http.MethodPost {
				version.Add(1)
				w.WriteHeader(http.StatusNoContent)
				return
			}
			w.Header().Set("Cache-Control", "max-age=60")
			io.WriteString(w, "v"+strconv.FormatInt(version.Load(), 10))
		})))

		_, body := s.roundTrip(t, t.Context(), "GET", "/doc")
		assert.Equal(t, "v0", body)
		resp, body := s.roundTrip(t, t.Context(), "GET", "/doc")
		assert.Equal(t, "v0", body)
		assert.Regexp(t, hitStatusRE, resp.Header.Get("Cache-Status"))

		resp, _ = s.roundTrip(t, t.Context(), "POST", "/doc")
		checkProto(t, m, resp)
		assert.Equal(t, http.StatusNoContent, resp.StatusCode)
		assert.Equal(t, statusMethod, resp.Header.Get("Cache-Status"))

		resp, body = s.roundTrip(t, t.Context(), "GET", "/doc")
		assert.Equal(t, "v1", body, "the write's URL is no longer served from the old entry")
		assert.Equal(t, statusStored, resp.Header.Get("Cache-Status"))
		assert.EqualValues(t, 3, calls.Load())
	})
}

func TestSmokeLargeBody(t *testing.T) {
	t.Parallel()
	big := make([]byte, 200<<10)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	tests := []struct {
		name    string
		maxBody int64
		stored  bool
	}{
		{"under a raised limit", 256 << 10, true},
		{"over the limit", 100 << 10, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run(t, func(t *testing.T, m mode) {
				o := newOrigin(string(big), "Cache-Control", "max-age=60")
				c := New(WithMaxBodyBytes(tc.maxBody))
				defer c.Close()
				s := newSmokeServer(t, m, c.Handler(o))

				for range 2 {
					resp, body := s.roundTrip(t, t.Context(), "GET", "/big")
					checkProto(t, m, resp)
					assert.Equal(t, 200, resp.StatusCode)
					assert.True(t, body == string(big), "the body arrives whole (%d bytes)", len(body))
				}
				want := map[bool]int64{true: 1, false: 2}[tc.stored]
				assert.Equal(t, want, o.calls.Load(), "handler calls")
			})
		})
	}
}

// TestSmokeClientHangsUp checks what is stored when the client of a fill
// hangs up mid-response: a buffered response completes for the store; a
// flushed one is told the client is gone, and what it wrote until then must
// never be served as the whole response.
func TestSmokeClientHangsUp(t *testing.T) {
	t.Parallel()
	const chunks = 256
	chunk := bytes.Repeat([]byte("x"), 1<<10)
	full := bytes.Repeat(chunk, chunks)
	tests := []struct {
		name   string
		flush  bool
		stored bool // the fill still completes and is stored
	}{
		{"buffered", false, true},
		{"flushing", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run(t, func(t *testing.T, m mode) {
				var calls atomic.Int64
				hungUp := make(chan struct{})
				c := New()
				defer c.Close()
				s := newSmokeServer(t, m, c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					n := calls.Add(1)
					w.Header().Set("Cache-Control", "max-age=60")
					rc := http.NewResponseController(w)
					for i := range chunks {
						if i == chunks/4 && n == 1 {
							// The client reads a little and hangs up. A stream's
							// handler sees it; a buffered fill runs detached
							// from it, for the store and the waiters.
							done := r.Context().Done()
							if !tc.flush {
								done = hungUp
							}
							select {
							case <-done:
							case <-time.After(10 * time.Second): // a failure guard
								assert.Fail(t, "the hang-up never reached the handler")
							}
						}
						if _, err := w.Write(chunk); err != nil {
							return
						}
						if tc.flush && rc.Flush() != nil {
							return
						}
					}
				})))

				req, err := http.NewRequestWithContext(t.Context(), "GET", s.URL+"/stream", nil)
				require.NoError(t, err)
				resp, err := s.client.Do(req)
				require.NoError(t, err)
				checkProto(t, m, resp)
				_, err = io.ReadFull(resp.Body, make([]byte, 1))
				require.NoError(t, err)
				require.NoError(t, resp.Body.Close())
				close(hungUp)
				s.wait(t)

				resp, body := s.roundTrip(t, t.Context(), "GET", "/stream")
				assert.Equal(t, 200, resp.StatusCode)
				assert.Equal(t, len(full), len(body), "body length (Cache-Status %q)", resp.Header.Get("Cache-Status"))
				if tc.stored {
					assert.EqualValues(t, 1, calls.Load(), "the hung-up fill was stored")
					assert.Regexp(t, hitStatusRE, resp.Header.Get("Cache-Status"))
				}
			})
		})
	}
}
