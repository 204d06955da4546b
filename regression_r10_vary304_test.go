package httpcache

import (
	"io"
	"net/http"
	"testing"
	"testing/synctest"
	"time"
)

// A stored response that did not vary is revalidated by a 304 that now says
// Vary: Accept-Language (RFC 9110 Section 15.4.5 makes the 304 carry it).
// freshen merges the 304's header (the entry now replays Vary:
// Accept-Language) but keeps Entry.Vary = nil, so the renewed entry is stored
// at the primary key and answers every language: the French variant the 304
// validated is served to an English request.
func TestRegression10RevalidationIgnoresNewVary(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		varies := false // the handler was redeployed with i18n between the requests
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !varies {
				w.Header().Set("Cache-Control", "max-age=1")
				w.Header().Set("Etag", `"fr1"`)
				io.WriteString(w, "bonjour")
				return
			}
			w.Header().Set("Cache-Control", "max-age=100")
			w.Header().Set("Vary", "Accept-Language")
			if r.Header.Get("Accept-Language") == "en" {
				w.Header().Set("Etag", `"en1"`)
				io.WriteString(w, "hello")
				return
			}
			w.Header().Set("Etag", `"fr1"`)
			if r.Header.Get("If-None-Match") == `"fr1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			io.WriteString(w, "bonjour")
		})
		h := New(WithLogger(discardLogger())).Handler(next)
		do(t, h, http.MethodGet, "http://example.com/p", "Accept-Language", "fr")
		time.Sleep(2 * time.Second)
		varies = true
		w := do(t, h, http.MethodGet, "http://example.com/p", "Accept-Language", "fr")
		if w.Body.String() != "bonjour" {
			t.Fatalf("fr revalidation: %q", w.Body.String())
		}
		w = do(t, h, http.MethodGet, "http://example.com/p", "Accept-Language", "en")
		if w.Body.String() != "hello" {
			t.Fatalf("en request served the fr variant %q (Vary %q, Cache-Status %q)",
				w.Body.String(), w.Header().Get("Vary"), w.Header().Get("Cache-Status"))
		}
	})
}
