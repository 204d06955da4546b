package httpcache

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// R11: a far-future Expires with a validator overflows Entry.Expires: never stored.
func TestRegressionFarExpiresNeverStored(t *testing.T) {
	t.Parallel()
	o := newOrigin("x", "Expires", "Fri, 31 Dec 9999 23:59:59 GMT", "Etag", `"a"`)
	h := New().Handler(o)
	do(t, h, "GET", "/f")
	w := do(t, h, "GET", "/f")
	if o.calls.Load() != 1 {
		t.Errorf("calls=%d, second: %s", o.calls.Load(), w.Header().Get("Cache-Status"))
	}
}

// R12: a 304 revalidation re-counts the stored response's upstream Age.
func TestRegressionFreshenRecountsAge(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := New(WithLogger(discardLogger())).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("If-None-Match") != "" {
				w.Header().Set("Cache-Control", "max-age=100")
				w.WriteHeader(304)
				return
			}
			w.Header().Set("Cache-Control", "max-age=100")
			w.Header().Set("Age", "90")
			w.Header().Set("Etag", `"a"`)
			io.WriteString(w, "x")
		}))
		do(t, h, "GET", "/a")
		time.Sleep(11 * time.Second) // stale
		do(t, h, "GET", "/a")        // 304: fresh for 100s from now
		w := do(t, h, "GET", "/a")
		t.Logf("%s Age=%s", w.Header().Get("Cache-Status"), w.Header().Get("Age"))
		if w.Header().Get("Age") != "0" {
			t.Errorf("Age after revalidation = %s (%s)", w.Header().Get("Age"), w.Header().Get("Cache-Status"))
		}
	})
}

// R13: a Cache.Handler nested inside a Cache.Handler of the same core waits
// for its own outer flight until the lock timeout on every miss.
func TestRegressionNestedHandlersSelfWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := New(WithTTL(time.Minute))
		defer c.Close()
		route := c.With(WithTTL(time.Hour)).Handler(newOrigin("x"))
		h := c.Handler(route) // r.Use(c.Handler) + per-route c.With(...).Handler
		start := time.Now()
		do(t, h, "GET", "/n")
		if d := time.Since(start); d > time.Second {
			t.Errorf("a miss took %v", d)
		}
	})
}

// R14: Surrogate-Control is lost on a 304 revalidation: the entry becomes
// Cache-Control-only (no-store/private) and is stored stale, revalidated on
// every request.
func TestRegressionFreshenLosesSurrogateControl(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		h := New(WithLogger(discardLogger())).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls++
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Surrogate-Control", "max-age=10")
			w.Header().Set("Etag", `"a"`)
			if r.Header.Get("If-None-Match") == `"a"` {
				w.WriteHeader(304)
				return
			}
			io.WriteString(w, "x")
		}))
		do(t, h, "GET", "/s")
		time.Sleep(11 * time.Second)
		do(t, h, "GET", "/s") // 304: fresh for another 10s
		time.Sleep(time.Second)
		w := do(t, h, "GET", "/s")
		if calls != 2 {
			t.Errorf("calls=%d; third: %s", calls, w.Header().Get("Cache-Status"))
		}
	})
}

// R15: trailers set after the body are lost when the fill keeps the
// handler's header apart (stale entry with validators).
func TestRegressionTrailersLostOnHeldFill(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := 0
		h := New(WithLogger(discardLogger())).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n++
			w.Header().Set("Cache-Control", "max-age=1")
			w.Header().Set("Etag", `"v`+strings.Repeat("x", n)+`"`)
			io.WriteString(w, "body")
			w.Header().Set(http.TrailerPrefix+"X-Checksum", "abc")
		}))
		w1 := do(t, h, "GET", "/tr")
		time.Sleep(2 * time.Second)
		w2 := do(t, h, "GET", "/tr")
		t1 := w1.Result().Trailer.Get("X-Checksum")
		t2 := w2.Result().Trailer.Get("X-Checksum")
		if t1 != "abc" || t2 != "abc" {
			t.Errorf("trailer on plain fill %q, on revalidating fill %q; want \"abc\"", t1, t2)
		}
	})
}

// R16: If-None-Match: * on an entry without ETag is not answered 304.
func TestRegressionINMStar(t *testing.T) {
	t.Parallel()
	o := newOrigin("x", "Cache-Control", "max-age=60", "Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")
	h := New().Handler(o)
	do(t, h, "GET", "/i")
	w := do(t, h, "GET", "/i", "If-None-Match", "*")
	if w.Code != 304 {
		t.Errorf("INM * on a stored representation: %d", w.Code)
	}
}
