// Command tour walks through what httpcache does. It starts a server on the
// loopback interface with the cache in front of a small site, sends it
// requests with a real HTTP client, and narrates each response.
//
//	go run ./examples/tour
package main

import (
	"cmp"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/cacheaside/httpcache"
)

// site is the origin behind the cache: articles, an account page, a clock
// and a stock level. It counts the requests each path receives.
type site struct {
	mu       sync.Mutex // guards the fields below
	articles map[string]string
	edits    int // how often articles were saved; part of their ETags
	stock    int
	calls    map[string]int
	last     int           // the status of the last /stock response
	gate     chan struct{} // when not nil, /stock waits for it to close
}

func (s *site) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /articles/{slug}", s.article)
	mux.HandleFunc("PUT /api/articles/{slug}", s.saveArticle)
	mux.HandleFunc("GET /account", s.account)
	mux.HandleFunc("GET /clock", s.clock)
	mux.HandleFunc("GET /stock", s.stockLevel)
	return mux
}

// count locks the site and records a request to path; the caller unlocks.
func (s *site) count(path string) *sync.Mutex {
	s.mu.Lock()
	s.calls[path]++
	return &s.mu
}

// callsTo reports how many requests path received.
func (s *site) callsTo(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[path]
}

func (s *site) article(w http.ResponseWriter, r *http.Request) {
	defer s.count(r.URL.Path).Unlock()
	slug := r.PathValue("slug")
	httpcache.Tag(r.Context(), "article:"+slug)
	w.Header().Set("Cache-Control", "max-age=60")
	w.Header().Set("ETag", fmt.Sprintf(`"%s-%d"`, slug, s.edits))
	fmt.Fprint(w, s.articles[slug])
}

func (s *site) saveArticle(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.articles[slug] = string(body)
	s.edits++
	s.mu.Unlock()
	// The hook: once it returns, no reader is served the old article.
	if err := httpcache.Invalidate(r.Context(), "article:"+slug); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if r.URL.Query().Get("refill") == "1" {
		// Write-through: fill the page again in the background, after this
		// response, so that the next reader gets a hit.
		if err := httpcache.Refill(r.Context(), "/articles/"+slug); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *site) account(w http.ResponseWriter, r *http.Request) {
	defer s.count(r.URL.Path).Unlock()
	w.Header().Set("Cache-Control", "max-age=60")
	http.SetCookie(w, &http.Cookie{Name: "session", Value: "alice"})
	fmt.Fprint(w, "Alice's account")
}

func (s *site) clock(w http.ResponseWriter, r *http.Request) {
	defer s.count(r.URL.Path).Unlock()
	fmt.Fprintf(w, "tick %d", s.calls[r.URL.Path])
}

func (s *site) stockLevel(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	defer s.count(r.URL.Path).Unlock()
	etag := fmt.Sprintf(`"stock-%d"`, s.stock)
	w.Header().Set("Cache-Control", "max-age=0, stale-while-revalidate=60")
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		s.last = http.StatusNotModified
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.last = http.StatusOK
	fmt.Fprintf(w, "%d in stock", s.stock)
}

// tour sends requests to the server and prints what comes back.
type tour struct {
	base  string
	hc    *http.Client
	cache *httpcache.Cache
	site  *site
}

// fetch sends a request and returns a one-line summary of the response.
func (t *tour) fetch(method, path, body string, header ...string) string {
	req, err := http.NewRequest(method, t.base+path, strings.NewReader(body))
	check(err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := t.hc.Do(req)
	check(err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	check(err)
	line := fmt.Sprintf("  %-4s %-16s -> %d  Cache-Status: %-31s  Age: %s", method, path, resp.StatusCode,
		resp.Header.Get("Cache-Status"), cmp.Or(resp.Header.Get("Age"), "-"))
	if method == http.MethodHead {
		line += "  Content-Length: " + resp.Header.Get("Content-Length")
	}
	return line + fmt.Sprintf("  %q", b)
}

// show sends a request and prints its summary.
func (t *tour) show(method, path string, header ...string) {
	fmt.Println(t.fetch(method, path, "", header...))
}

// check stops the tour on an error.
func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// scene prints a scene's title and its narration.
func scene(title string, notes ...string) {
	fmt.Printf("\n== %s\n", title)
	for _, n := range notes {
		fmt.Println("  " + n)
	}
}

func (t *tour) missThenHits() {
	scene("1. A miss, then hits",
		"max-age=60: the first GET runs the handler and stores the response; the next ones are",
		"served from the cache, with Age (seconds in the cache) and ttl (seconds of freshness left).")
	for range 3 {
		t.show("GET", "/articles/go")
	}
	fmt.Printf("  the handler ran %d time\n", t.site.callsTo("/articles/go"))
}

func (t *tour) headAndConditional() {
	scene("2. HEAD and conditional requests",
		"HEAD is answered from the GET entry; If-None-Match with the stored ETag gets 304.")
	t.show("HEAD", "/articles/go")
	t.show("GET", "/articles/go", "If-None-Match", `"go-0"`)
	fmt.Printf("  the handler has still run %d time\n", t.site.callsTo("/articles/go"))
}

func (t *tour) notStored() {
	scene("3. Responses that are not stored",
		"/account sets a cookie: a response with Set-Cookie is never stored.",
		"/clock states no freshness, and this cache has no WithTTL: not stored either.",
		"A request with Authorization bypasses the cache altogether.")
	for _, p := range []string{"/account", "/account", "/clock", "/clock"} {
		t.show("GET", p)
	}
	t.show("GET", "/articles/go", "Authorization", "Bearer alice")
	fmt.Printf("  /account ran %d times, /clock %d times\n", t.site.callsTo("/account"), t.site.callsTo("/clock"))
}

func (t *tour) staleWhileRevalidate() {
	scene("4. Stale while revalidate",
		"/stock says max-age=0, stale-while-revalidate=60: stale at once, but servable for",
		"a minute while one background request refreshes it (ttl=-1: stale by 1 s).")
	t.show("GET", "/stock")
	t.site.mu.Lock()
	t.site.stock--
	t.site.gate = make(chan struct{}) // holds the refresh until the three are answered
	gate := t.site.gate
	t.site.mu.Unlock()
	fmt.Println("  the stock changes; three clients get the stale entry at once, and one refresh starts:")
	for range 3 {
		t.show("GET", "/stock")
	}
	close(gate)
	t.cache.Wait() // waits for the background refresh, without sleeping
	fmt.Printf("  one background refresh ran: the handler ran %d times (the fill and the refresh)\n",
		t.site.callsTo("/stock"))
	fmt.Println("  the next client gets the refreshed entry, stale again, which starts another refresh:")
	t.show("GET", "/stock")
	t.cache.Wait()
	t.site.mu.Lock()
	last := t.site.last
	t.site.mu.Unlock()
	fmt.Printf("  that refresh sent If-None-Match; the handler answered %d %s\n", last, http.StatusText(last))
}

func (t *tour) writeInvalidates() {
	scene("5. A write invalidates",
		`PUT /api/articles/go saves the article and calls httpcache.Invalidate(ctx, "article:go");`,
		`the article page carries that tag (httpcache.Tag), so the next read sees the new text.`)
	t.show("GET", "/articles/go")
	fmt.Println(t.fetch("PUT", "/api/articles/go", "Go 1.26 is out"))
	t.show("GET", "/articles/go")
	t.show("GET", "/articles/go")
}

func (t *tour) writeThrough() {
	scene("6. Write-through",
		`PUT /api/articles/go?refill=1 also calls httpcache.Refill(ctx, "/articles/go"): once the`,
		`write has answered, the cache fills the page again in the background, so the next`,
		`reader gets a hit with the new text instead of waiting for the handler.`)
	fmt.Println(t.fetch("PUT", "/api/articles/go?refill=1", "Go 1.27 is out"))
	t.cache.Wait() // the refill runs in the background; Wait is for tours and tests
	t.show("GET", "/articles/go")
	fmt.Printf("  the article page ran %d times in all\n", t.site.callsTo("/articles/go"))
}

func main() {
	s := &site{articles: map[string]string{"go": "Go 1.25 is out"}, stock: 42, calls: map[string]int{}}
	c := httpcache.New() // no WithTTL: only responses that state their freshness are stored
	srv := httptest.NewServer(c.Handler(s.routes()))
	t := &tour{base: srv.URL, hc: srv.Client(), cache: c, site: s}

	t.missThenHits()
	t.headAndConditional()
	t.notStored()
	t.staleWhileRevalidate()
	t.writeInvalidates()
	t.writeThrough()

	srv.Close()
	check(c.Close())
}
