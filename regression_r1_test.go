package httpcache

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// R1: a 304 revalidation carrying Set-Cookie is merged into the entry, stored
// and served to other clients.
func TestRegression304SetCookieStoredAndShared(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		h := New(WithLogger(discardLogger())).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.Header().Set("Set-Cookie", "session=alice-secret")
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("Cache-Control", "max-age=1")
			w.Header().Set("Etag", `"v1"`)
			io.WriteString(w, "body")
		}))
		do(t, h, "GET", "/x")
		time.Sleep(2 * time.Second)
		a := do(t, h, "GET", "/x") // alice revalidates: 304 + Set-Cookie
		t.Logf("alice: %d %q %v", a.Code, a.Body.String(), a.Header())
		b := do(t, h, "GET", "/x", "Cache-Control", "max-stale=3600") // bob
		t.Logf("bob:   %d %q %v calls=%d", b.Code, b.Body.String(), b.Header(), calls.Load())
		if b.Header().Get("Set-Cookie") != "" {
			t.Errorf("bob got alice's cookie: %q", b.Header().Get("Set-Cookie"))
		}
	})
}

// R1b: same, to a collapsed waiter: it runs the handler itself and gets
// its own cookie, never the leader's.
func TestRegression304SetCookieToWaiter(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var calls atomic.Int64
		h := New(WithLogger(discardLogger())).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := calls.Add(1)
			if r.Header.Get("If-None-Match") == `"v1"` {
				<-release
				w.Header().Set("Set-Cookie", fmt.Sprint("session=secret-", n))
				w.Header().Set("Cache-Control", "private")
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("Cache-Control", "max-age=1")
			w.Header().Set("Etag", `"v1"`)
			io.WriteString(w, "body")
		}))
		do(t, h, "GET", "/x")
		time.Sleep(2 * time.Second)
		res := make([]*httptest.ResponseRecorder, 2)
		var wg sync.WaitGroup
		for i := range res {
			wg.Go(func() { res[i] = do(t, h, "GET", "/x") })
			synctest.Wait()
		}
		close(release)
		wg.Wait()
		leader, waiter := res[0].Header().Get("Set-Cookie"), res[1].Header().Get("Set-Cookie")
		if leader == waiter {
			t.Errorf("waiter got leader's cookie %q: %v", leader, res[1].Header())
		}
	})
}

// R2: a 304 revalidation drops the stale entry's tags: Invalidate(tag) no
// longer reaches the entry.
func TestRegression304DropsTags(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New(WithLogger(discardLogger()))
		body := "old"
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("If-None-Match") == `"`+body+`"` {
				w.WriteHeader(http.StatusNotModified) // conditional short-cut before tagging
				return
			}
			Tag(r.Context(), "product:1")
			w.Header().Set("Cache-Control", "max-age=1")
			w.Header().Set("Etag", `"`+body+`"`)
			io.WriteString(w, body)
		}))
		do(t, h, "GET", "/p")
		time.Sleep(2 * time.Second)
		do(t, h, "GET", "/p") // revalidated by 304
		body = "new"
		if err := c.Invalidate(context.Background(), "product:1"); err != nil {
			t.Fatal(err)
		}
		w := do(t, h, "GET", "/p")
		if w.Body.String() != "new" {
			t.Errorf("after Invalidate: %q (%s)", w.Body.String(), w.Header().Get("Cache-Status"))
		}
	})
}

// R3: a held 5xx whose stale-if-error window closed during the fill is
// turned into an empty 200.
func TestRegressionHeld5xxBecomesEmpty200(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int64
		h := New(WithLogger(discardLogger())).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				w.Header().Set("Cache-Control", "max-age=1, stale-if-error=2")
				io.WriteString(w, "old")
				return
			}
			time.Sleep(2 * time.Second)
			http.Error(w, "db down", http.StatusInternalServerError)
		}))
		do(t, h, "GET", "/e")
		time.Sleep(2500 * time.Millisecond) // stale by 1.5s, inside stale-if-error=2
		w := do(t, h, "GET", "/e")
		if w.Code != 500 {
			t.Errorf("got %d %q %v; want the handler's 500", w.Code, w.Body.String(), w.Header())
		}
	})
}

// R3b: a panic in that window is swallowed: empty 200.
func TestRegressionPanicSwallowed(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int64
		h := New(WithLogger(discardLogger())).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				w.Header().Set("Cache-Control", "max-age=1, stale-if-error=2")
				io.WriteString(w, "old")
				return
			}
			time.Sleep(2 * time.Second)
			panic("boom")
		}))
		do(t, h, "GET", "/e")
		time.Sleep(2500 * time.Millisecond)
		var got any
		var w *httptest.ResponseRecorder
		func() {
			defer func() { got = recover() }()
			w = do(t, h, "GET", "/e")
		}()
		if got == nil {
			t.Errorf("panic swallowed; client got %d %q", w.Code, w.Body.String())
		}
	})
}

// R4: Vary set by outer middleware is ignored: one user's variant is served
// to another.
func TestRegressionOuterVaryIgnored(t *testing.T) {
	t.Parallel()
	c := New(WithTTL(time.Minute))
	inner := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, _ := r.Cookie("sid")
		io.WriteString(w, "csrf-token-for-"+ck.Value)
	}))
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Cookie") // as gorilla/csrf does
		inner.ServeHTTP(w, r)
	})
	do(t, outer, "GET", "/form", "Cookie", "sid=alice")
	w := do(t, outer, "GET", "/form", "Cookie", "sid=bob")
	if w.Body.String() != "csrf-token-for-bob" {
		t.Errorf("bob got %q (%s)", w.Body.String(), w.Header().Get("Cache-Status"))
	}
}

// R4b: Content-Type set by outer middleware is replaced by a sniffed one on hits.
func TestRegressionOuterContentTypeChangesOnHit(t *testing.T) {
	t.Parallel()
	c := New(WithTTL(time.Minute))
	inner := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"a":1}`)
	}))
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		inner.ServeHTTP(w, r)
	})
	m := do(t, outer, "GET", "/api")
	hit := do(t, outer, "GET", "/api")
	if m.Header().Get("Content-Type") != hit.Header().Get("Content-Type") {
		t.Errorf("miss %q, hit %q (%s)", m.Header().Get("Content-Type"), hit.Header().Get("Content-Type"), hit.Header().Get("Cache-Status"))
	}
}

// R4c: Cache-Control: private set by outer middleware is ignored.
func TestRegressionOuterPrivateIgnored(t *testing.T) {
	t.Parallel()
	c := New(WithTTL(time.Minute))
	inner := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, _ := r.Cookie("sid")
		io.WriteString(w, "hello "+ck.Value)
	}))
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie("sid"); err == nil {
			w.Header().Set("Cache-Control", "private") // auth middleware marks sessions private
		}
		inner.ServeHTTP(w, r)
	})
	do(t, outer, "GET", "/me", "Cookie", "sid=alice")
	w := do(t, outer, "GET", "/me", "Cookie", "sid=bob")
	if w.Body.String() != "hello bob" {
		t.Errorf("bob got %q (%s)", w.Body.String(), w.Header().Get("Cache-Status"))
	}
}

// R5: startRefill releases the flight of the refill already running, so a
// third Refill starts a second concurrent refresh of the same key.
func TestRegressionRefillReleasesOthersFlight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var inflight, maxInflight atomic.Int64
		gate := make(chan struct{})
		c := New(WithLogger(discardLogger()))
		defer c.Close()
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "POST" {
				Refill(r.Context(), "/x")
				return
			}
			n := inflight.Add(1)
			for {
				m := maxInflight.Load()
				if n <= m || maxInflight.CompareAndSwap(m, n) {
					break
				}
			}
			<-gate
			inflight.Add(-1)
			w.Header().Set("Cache-Control", "max-age=60")
			io.WriteString(w, "x")
		}))
		for range 3 {
			do(t, h, "POST", "/other")
			synctest.Wait()
		}
		close(gate)
		c.Wait()
		if maxInflight.Load() != 1 {
			t.Errorf("%d concurrent refills of one key", maxInflight.Load())
		}
	})
}

// R6: equivalent URL spellings get different URL tags: POST /~u does not
// invalidate GET /%7Eu.
func TestRegressionURLTagNotNormalised(t *testing.T) {
	t.Parallel()
	body := "old"
	h := New().Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			body = "new"
			return
		}
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, body)
	}))
	do(t, h, "GET", "/%7Eu")
	do(t, h, "POST", "/~u")
	w := do(t, h, "GET", "/%7Eu")
	if w.Body.String() != "new" {
		t.Errorf("after POST /~u, GET /%%7Eu = %q (%s)", w.Body.String(), w.Header().Get("Cache-Status"))
	}
}

// R7: tag fields reach the client on HEAD misses and bypassed requests.
func TestRegressionTagHeadersLeakOnForward(t *testing.T) {
	t.Parallel()
	h := New().Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Surrogate-Key", "internal-user-42")
		w.Header().Set("Cache-Control", "max-age=60")
	}))
	for _, kv := range [][]string{{"HEAD", ""}, {"GET", "Authorization"}, {"OPTIONS", ""}} {
		var w *httptest.ResponseRecorder
		if kv[1] != "" {
			w = do(t, h, kv[0], "/t", kv[1], "x")
		} else {
			w = do(t, h, kv[0], "/t")
		}
		if v := w.Header().Get("Surrogate-Key"); v != "" {
			t.Errorf("%v: Surrogate-Key %q reached the client", kv, v)
		}
	}
}

// R8: stale-if-error serves an entry invalidated during the failed fill.
func TestRegressionStaleIfErrorAfterInvalidate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New(WithLogger(discardLogger()))
		var n atomic.Int64
		inHandler := make(chan struct{})
		proceed := make(chan struct{})
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				Tag(r.Context(), "t")
				w.Header().Set("Cache-Control", "max-age=1, stale-if-error=60")
				io.WriteString(w, "old")
				return
			}
			close(inHandler)
			<-proceed
			w.WriteHeader(503)
		}))
		do(t, h, "GET", "/s")
		time.Sleep(2 * time.Second)
		var w *httptest.ResponseRecorder
		done := make(chan struct{})
		go func() { w = do(t, h, "GET", "/s"); close(done) }()
		<-inHandler
		if err := c.Invalidate(context.Background(), "t"); err != nil {
			t.Fatal(err)
		}
		close(proceed)
		<-done
		if w.Body.String() == "old" {
			t.Errorf("served invalidated body after Invalidate returned (%s)", w.Header().Get("Cache-Status"))
		}
	})
}

// R9: a leader whose client hung up mid-body stores the truncated body.
func TestRegressionTruncatedBodyStoredOnHangUp(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New(WithLogger(discardLogger()))
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			for i := range 10 {
				select {
				case <-r.Context().Done():
					return // rows.Next() == false on a cancelled query
				case <-time.After(time.Second):
				}
				io.WriteString(w, string(rune('0'+i)))
			}
		}))
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(3500 * time.Millisecond); cancel() }()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/t", nil).WithContext(ctx))
		w := do(t, h, "GET", "/t")
		if w.Body.String() != "0123456789" {
			t.Errorf("next client got %q (%s)", w.Body.String(), w.Header().Get("Cache-Status"))
		}
	})
}

// R10: the key omits the scheme: an http->https redirect is served to https.
func TestRegressionSchemeNotInKey(t *testing.T) {
	t.Parallel()
	h := New(WithTTL(time.Minute)).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), http.StatusMovedPermanently)
			return
		}
		io.WriteString(w, "secure page")
	}))
	do(t, h, "GET", "http://example.com/a")
	w := do(t, h, "GET", "https://example.com/a")
	if w.Code != 200 {
		t.Errorf("https request got %d (%s)", w.Code, w.Header().Get("Cache-Status"))
	}
}
