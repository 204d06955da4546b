package httpcache

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A response with more than maxTags tags is stored with only the first 64:
// st.add and headerTags drop the rest before entryTags can refuse the
// entry, so Invalidate of the 65th tag returns and the old body is served.
// (64 Tag tags plus one Cache-Tag is refused; 65 Tag tags is stored.)
func TestRegression3TagsPastLimitStoredAnyway(t *testing.T) {
	t.Parallel()
	for _, viaHeader := range []bool{false, true} {
		t.Run(fmt.Sprint("header=", viaHeader), func(t *testing.T) {
			c := New(WithTTL(time.Minute), WithLogger(discardLogger()))
			var v atomic.Value
			v.Store("v1")
			h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tags := make([]string, 65)
				for i := range tags {
					tags[i] = fmt.Sprint("t", i)
				}
				if viaHeader {
					w.Header().Set("Cache-Tag", strings.Join(tags, ","))
				} else {
					Tag(r.Context(), tags...)
				}
				io.WriteString(w, v.Load().(string))
			}))
			require.Equal(t, "v1", do(t, h, "GET", "/x").Body.String())
			v.Store("v2")
			require.NoError(t, c.Invalidate(context.Background(), "t64"))
			w := do(t, h, "GET", "/x")
			assert.Equal(t, "v2", w.Body.String(), w.Header().Get("Cache-Status"))
		})
	}
}

// A 304 whose strong ETag differs from the stored one is not used to renew
// the entry, but the stored body is served instead (must-revalidate
// notwithstanding), and the next request does the same: while the entry
// lives (an hour past its lifetime, since it has validators), every client
// gets the superseded body although the handler has a new representation,
// and the handler runs every time.
//
// With weak ETags (W/"a" stored, 304 says W/"b"), sameStrongETag says yes,
// and the old body is renewed and served as a fresh hit (RFC 9111 Section
// 4.3.4: a weak validator must correspond to the stored one).
func TestRegression3ETagMismatchServesOldBodyForever(t *testing.T) {
	t.Parallel()
	for _, weak := range []string{"", "W/"} {
		t.Run("weak="+weak, func(t *testing.T) { etagMismatch(t, weak) })
	}
}

func etagMismatch(t *testing.T, weak string) {
	synctest.Test(t, func(t *testing.T) {
		c := New(WithLogger(discardLogger()))
		defer c.Close()
		v := "a"
		h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=1, must-revalidate")
			w.Header().Set("Etag", weak+`"`+v+`"`)
			w.Header().Set("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")
			if r.Header.Get("If-Modified-Since") != "" { // checks only the date
				w.WriteHeader(http.StatusNotModified)
				return
			}
			io.WriteString(w, "body-"+v)
		}))
		do(t, h, "GET", "/n")
		v = "b"
		for i := 0; i < 3; i++ {
			time.Sleep(10 * time.Minute)
			w := do(t, h, "GET", "/n")
			assert.Equal(t, "body-b", w.Body.String(), "after %d min: %s", (i+1)*10, w.Header().Get("Cache-Status"))
		}
	})
}
