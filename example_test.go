package httpcache_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cacheaside/httpcache"
)

// printGet sends a GET for url and prints the Cache-Status, Age and body of the
// response.
func printGet(url string) {
	resp, err := http.Get(url)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s | Age: %q | %s\n", resp.Header.Get("Cache-Status"), resp.Header.Get("Age"), strings.TrimSpace(string(body)))
}

// printResponse sends a request through h and prints the status, Cache-Status and
// body of the response.
func printResponse(h http.Handler, method, target string, header ...string) {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Printf("%s %s: %d | %s | %q\n", method, target, w.Code, w.Header().Get("Cache-Status"), strings.TrimSpace(w.Body.String()))
}

func Example() {
	c := httpcache.New(httpcache.WithTTL(10 * time.Minute))
	defer c.Close()

	mux := http.NewServeMux()
	mux.Handle("GET /hello", c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "Hello, cache")
	})))

	srv := httptest.NewServer(mux)
	defer srv.Close()

	// The first request runs the handler and stores its response; the
	// second is served from the cache.
	for range 2 {
		resp, err := http.Get(srv.URL + "/hello")
		if err != nil {
			log.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("Cache-Status:", resp.Header.Get("Cache-Status"))
		if age := resp.Header.Get("Age"); age != "" {
			fmt.Println("Age:", age)
		}
		fmt.Print(string(body))
	}
	// Output:
	// Cache-Status: httpcache; fwd=uri-miss; stored
	// Hello, cache
	// Cache-Status: httpcache; hit; ttl=600
	// Age: 0
	// Hello, cache
}

func ExampleNew() {
	// A cache for the whole site: responses that state no freshness of
	// their own are kept for a minute, pages vary by language, and the
	// store may use 128 MiB.
	c := httpcache.New(
		httpcache.WithTTL(time.Minute),
		httpcache.WithVary("Accept-Language"),
		httpcache.WithStore(httpcache.NewMemoryStore(128<<20)),
	)
	defer c.Close()

	// A policy for slow-changing routes: same store, longer lifetime.
	static := c.With(httpcache.WithTTL(time.Hour))

	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "page in", r.Header.Get("Accept-Language"))
	})
	mux := http.NewServeMux()
	mux.Handle("GET /news", c.Handler(page))
	mux.Handle("GET /about", static.Handler(page))

	printResponse(mux, "GET", "/news", "Accept-Language", "en")
	printResponse(mux, "GET", "/news", "Accept-Language", "en")
	printResponse(mux, "GET", "/news", "Accept-Language", "fr")
	printResponse(mux, "GET", "/about", "Accept-Language", "en")
	printResponse(mux, "GET", "/about", "Accept-Language", "en")
	// Output:
	// GET /news: 200 | httpcache; fwd=uri-miss; stored | "page in en"
	// GET /news: 200 | httpcache; hit; ttl=60 | "page in en"
	// GET /news: 200 | httpcache; fwd=uri-miss; stored | "page in fr"
	// GET /about: 200 | httpcache; fwd=uri-miss; stored | "page in en"
	// GET /about: 200 | httpcache; hit; ttl=3600 | "page in en"
}

func ExampleCache_Handler() {
	c := httpcache.New()
	defer c.Close()

	// Without WithTTL, only responses that state their freshness are
	// stored: this handler does, and gives an ETag for conditional requests.
	article := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Cache-Control", "max-age=300")
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprintln(w, "an article")
	})
	h := c.Handler(article) // or, as middleware: router.Use(c.Handler)

	printResponse(h, "GET", "/article")                              // miss, stored
	printResponse(h, "GET", "/article")                              // hit
	printResponse(h, "HEAD", "/article")                             // HEAD reads the GET entry
	printResponse(h, "GET", "/article", "If-None-Match", `"v1"`)     // 304 from the entry
	printResponse(h, "GET", "/article", "Authorization", "Bearer x") // personal: bypassed
	printResponse(h, "GET", "/article", "Cache-Control", "no-store") // the client asks: bypassed
	printResponse(h, "DELETE", "/article")                           // unsafe: invalidates /article
	printResponse(h, "GET", "/article")                              // so this is a miss again
	// Output:
	// GET /article: 200 | httpcache; fwd=uri-miss; stored | "an article"
	// GET /article: 200 | httpcache; hit; ttl=300 | "an article"
	// HEAD /article: 200 | httpcache; hit; ttl=300 | ""
	// GET /article: 304 | httpcache; hit; ttl=300 | ""
	// GET /article: 200 | httpcache; fwd=bypass | "an article"
	// GET /article: 200 | httpcache; fwd=bypass | "an article"
	// DELETE /article: 204 | httpcache; fwd=method | ""
	// GET /article: 200 | httpcache; fwd=uri-miss; stored | "an article"
}

// articles is a tiny data store for the examples.
type articles struct {
	mu sync.Mutex
	m  map[string]string
}

func (a *articles) get(slug string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.m[slug]
}

func (a *articles) set(slug, text string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.m[slug] = text
}

func ExampleInvalidate() {
	db := &articles{m: map[string]string{"go": "Go 1.25 is out"}}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /articles/{slug}", func(w http.ResponseWriter, r *http.Request) {
		slug := r.PathValue("slug")
		httpcache.Tag(r.Context(), "article:"+slug)
		fmt.Fprintln(w, db.get(slug))
	})
	mux.HandleFunc("POST /admin/articles/{slug}", func(w http.ResponseWriter, r *http.Request) {
		slug := r.PathValue("slug")
		db.set(slug, r.FormValue("text"))
		// The hook: once it returns, no reader is served the old page.
		if err := httpcache.Invalidate(r.Context(), "article:"+slug); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})

	c := httpcache.New(httpcache.WithTTL(time.Hour))
	defer c.Close()
	srv := httptest.NewServer(c.Handler(mux)) // the whole mux, writes included
	defer srv.Close()

	printGet(srv.URL + "/articles/go")
	printGet(srv.URL + "/articles/go")
	resp, err := http.PostForm(srv.URL+"/admin/articles/go", map[string][]string{"text": {"Go 1.26 is out"}})
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("POST:", resp.Status)
	printGet(srv.URL + "/articles/go")
	// Output:
	// httpcache; fwd=uri-miss; stored | Age: "" | Go 1.25 is out
	// httpcache; hit; ttl=3600 | Age: "0" | Go 1.25 is out
	// POST: 204 No Content
	// httpcache; fwd=uri-miss; stored | Age: "" | Go 1.26 is out
}

func ExampleCache_Invalidate() {
	var price atomic.Int64
	price.Store(100)
	c := httpcache.New(httpcache.WithTTL(time.Hour))
	defer c.Close()
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpcache.Tag(r.Context(), "prices")
		fmt.Fprintln(w, "price:", price.Load())
	}))

	printResponse(h, "GET", "/price")
	price.Store(120) // a job changes the data outside any request...
	printResponse(h, "GET", "/price")
	// ...and invalidates what depended on it.
	if err := c.Invalidate(context.Background(), "prices"); err != nil {
		log.Fatal(err)
	}
	printResponse(h, "GET", "/price")
	// Output:
	// GET /price: 200 | httpcache; fwd=uri-miss; stored | "price: 100"
	// GET /price: 200 | httpcache; hit; ttl=3600 | "price: 100"
	// GET /price: 200 | httpcache; fwd=uri-miss; stored | "price: 120"
}

func ExampleTag() {
	c := httpcache.New(httpcache.WithTTL(time.Hour))
	defer c.Close()

	// Each article page carries its own tag and the "articles" tag; the
	// index carries "articles" only.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /articles/{slug}", func(w http.ResponseWriter, r *http.Request) {
		httpcache.Tag(r.Context(), "article:"+r.PathValue("slug"), "articles")
		fmt.Fprintln(w, "article", r.PathValue("slug"))
	})
	mux.HandleFunc("GET /articles/", func(w http.ResponseWriter, r *http.Request) {
		httpcache.Tag(r.Context(), "articles")
		fmt.Fprintln(w, "index")
	})
	h := c.Handler(mux)
	for _, p := range []string{"/articles/go", "/articles/rust", "/articles/"} {
		printResponse(h, "GET", p)
	}

	// Dropping one article leaves the others and the index cached.
	if err := c.Invalidate(context.Background(), "article:go"); err != nil {
		log.Fatal(err)
	}
	for _, p := range []string{"/articles/go", "/articles/rust", "/articles/"} {
		printResponse(h, "GET", p)
	}
	// Output:
	// GET /articles/go: 200 | httpcache; fwd=uri-miss; stored | "article go"
	// GET /articles/rust: 200 | httpcache; fwd=uri-miss; stored | "article rust"
	// GET /articles/: 200 | httpcache; fwd=uri-miss; stored | "index"
	// GET /articles/go: 200 | httpcache; fwd=uri-miss; stored | "article go"
	// GET /articles/rust: 200 | httpcache; hit; ttl=3600 | "article rust"
	// GET /articles/: 200 | httpcache; hit; ttl=3600 | "index"
}

func Example_staleWhileRevalidate() {
	var version atomic.Int64
	version.Store(1)
	var (
		mu   sync.Mutex
		seen []string // what the handler was asked and answered
	)
	c := httpcache.New()
	defer c.Close()

	// max-age=0 makes the entry stale at once; stale-while-revalidate=60
	// lets the cache serve it for a minute while it refreshes it in the
	// background. The ETag makes the refresh a conditional request.
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		etag := fmt.Sprintf(`"v%d"`, version.Load())
		w.Header().Set("Cache-Control", "max-age=0, stale-while-revalidate=60")
		w.Header().Set("ETag", etag)
		status := http.StatusOK
		if r.Header.Get("If-None-Match") == etag {
			status = http.StatusNotModified
		}
		mu.Lock()
		seen = append(seen, fmt.Sprintf("If-None-Match=%s: %d", r.Header.Get("If-None-Match"), status))
		mu.Unlock()
		w.WriteHeader(status)
		if status == http.StatusOK {
			fmt.Fprintln(w, "version", version.Load())
		}
	}))

	printResponse(h, "GET", "/v") // a miss: stored, and stale already
	version.Store(2)
	printResponse(h, "GET", "/v") // version 1 at once, stale; a refresh starts
	c.Wait()                      // waits for the background refresh: no sleeping
	printResponse(h, "GET", "/v") // version 2, stale again; another refresh starts
	c.Wait()
	fmt.Println("the handler saw:", seen)
	// Output:
	// GET /v: 200 | httpcache; fwd=uri-miss; stored | "version 1"
	// GET /v: 200 | httpcache; hit; ttl=-1 | "version 1"
	// GET /v: 200 | httpcache; hit; ttl=-1 | "version 2"
	// the handler saw: [If-None-Match=: 200 If-None-Match="v1": 200 If-None-Match="v2": 304]
}
