// Command loadtest measures httpcache over real HTTP on the loopback
// interface, beside the physical limit: a raw endpoint whose handler writes
// the same pre-rendered bytes without a cache.
//
// For each scenario it starts a server on 127.0.0.1:0 with a raw endpoint
// (/raw/) and a cached one (/cached/: the same handler wrapped by
// [httpcache.Cache.Handler]), then drives them in alternation (raw, cached,
// raw, cached, … for -rounds rounds) with -clients clients, each on its own
// keep-alive connection. It prints requests per second and p50/p99 latency
// of each endpoint, the ratio cached/raw from the same run, and the share
// of cached responses that were fresh hits, stale hits and fills.
//
// Scenarios (-scenario, all of them by default):
//
//   - hits: 100 keys, every cached request a hit once warm. The budget is
//     cached/raw requests per second >= 0.95.
//   - zipf: Zipf-distributed keys (s=1.1) over -keys keys, far more than a
//     MemoryStore of -budget bytes holds, so hits, evictions and fills mix.
//   - storm: 1000 keys with max-age=1 and stale-while-revalidate=30, so
//     entries keep going stale and each first request after expiry is served
//     stale while one refresh runs. It also prints the p99 of stale hits over
//     the p99 of fresh hits; the budget is <= 2.
//   - invalidate: 1000 tagged keys read while a goroutine invalidates a
//     random tag every -invalidate-every (0: back to back).
//
// Each endpoint is driven for -duration per scenario, split over the
// rounds, after a short warm-up; the default run takes about 20 seconds:
//
//	go run ./examples/loadtest -duration 2s
//	go run ./examples/loadtest -scenario hits -clients 16 -size 65536
//	go run ./examples/loadtest -scenario hits -cpuprofile hits.pprof
//
// Clients and server share the machine, so the figures include the
// client's own cost on both sides; only the ratios are meant to travel.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/cacheaside/httpcache"
)

// options are the command's flags.
type options struct {
	scenario        string
	clients         int
	duration        time.Duration
	rounds          int
	size            int
	keys            int
	budget          int64
	invalidateEvery time.Duration
	cpuProfile      string
}

func main() {
	var o options
	flag.StringVar(&o.scenario, "scenario", "all", "hits, zipf, storm, invalidate or all")
	flag.IntVar(&o.clients, "clients", 8, "concurrent keep-alive clients")
	flag.DurationVar(&o.duration, "duration", 2*time.Second, "time each endpoint is driven per scenario, split over the rounds")
	flag.IntVar(&o.rounds, "rounds", 3, "raw/cached alternations per scenario")
	flag.IntVar(&o.size, "size", 1024, "response body bytes")
	flag.IntVar(&o.keys, "keys", 100000, "key space of the zipf scenario")
	flag.Int64Var(&o.budget, "budget", 4<<20, "MemoryStore bytes of the zipf scenario")
	flag.DurationVar(&o.invalidateEvery, "invalidate-every", 100*time.Microsecond, "pause between invalidations in the invalidate scenario")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (clients and server) to this file")
	flag.Parse()
	if o.clients < 1 || o.rounds < 1 || o.size < 0 || o.keys < 1 || o.budget < 1 || o.duration <= 0 {
		log.Fatal("loadtest: -clients, -rounds, -keys, -budget and -duration must be positive")
	}
	if o.cpuProfile != "" {
		defer startProfile(o.cpuProfile)()
	}
	ran := false
	for _, sc := range scenarios {
		if o.scenario == "all" || o.scenario == sc.name {
			run(sc, o)
			ran = true
		}
	}
	if !ran {
		log.Fatalf("loadtest: unknown scenario %q", o.scenario)
	}
}

// startProfile starts a CPU profile into path and returns what stops it.
func startProfile(path string) (stop func()) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatalf("loadtest: %v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatalf("loadtest: %v", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// scenario is one workload: how to build its endpoints.
type scenario struct {
	name  string
	build func(o options) *workload
}

var scenarios = []scenario{
	{"hits", buildHits},
	{"zipf", buildZipf},
	{"storm", buildStorm},
	{"invalidate", buildInvalidate},
}

// workload is what a scenario serves and how clients pick keys.
type workload struct {
	origin     http.Handler
	cache      *httpcache.Cache
	keys       int
	newPicker  func(r *rand.Rand) func() int // one per client
	background func(ctx context.Context)     // runs during the whole scenario; nil if none
}

// pageHandler writes body under cacheControl, with the key's tags when
// tagged: a handler serving pre-rendered pages.
func pageHandler(body []byte, cacheControl string, tagged bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tagged {
			key := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
			httpcache.Tag(r.Context(), "item:"+key)
			w.Header()["Cache-Tag"] = []string{"list:" + key[len(key)-1:]}
		}
		h := w.Header()
		h["Cache-Control"] = []string{cacheControl}
		h["Content-Type"] = []string{"text/html; charset=utf-8"}
		w.Write(body)
	})
}

func uniform(n int) func(r *rand.Rand) func() int {
	return func(r *rand.Rand) func() int { return func() int { return r.IntN(n) } }
}

func buildHits(o options) *workload {
	body := bytes.Repeat([]byte("x"), o.size)
	return &workload{origin: pageHandler(body, "max-age=600", false), cache: httpcache.New(), keys: 100, newPicker: uniform(100)}
}

func buildZipf(o options) *workload {
	body := bytes.Repeat([]byte("x"), o.size)
	c := httpcache.New(httpcache.WithStore(httpcache.NewMemoryStore(o.budget)))
	zipf := func(r *rand.Rand) func() int {
		z := rand.NewZipf(r, 1.1, 1, uint64(o.keys-1))
		return func() int { return int(z.Uint64()) }
	}
	return &workload{origin: pageHandler(body, "max-age=600", false), cache: c, keys: o.keys, newPicker: zipf}
}

func buildStorm(o options) *workload {
	body := bytes.Repeat([]byte("x"), o.size)
	origin := pageHandler(body, "max-age=1, stale-while-revalidate=30", false)
	return &workload{origin: origin, cache: httpcache.New(), keys: 1000, newPicker: uniform(1000)}
}

func buildInvalidate(o options) *workload {
	body := bytes.Repeat([]byte("x"), o.size)
	c := httpcache.New()
	invalidate := func(ctx context.Context) {
		r := rand.New(rand.NewPCG(1, 2))
		for ctx.Err() == nil {
			c.Invalidate(ctx, fmt.Sprintf("item:%d", r.IntN(1000)))
			if o.invalidateEvery > 0 {
				time.Sleep(o.invalidateEvery)
			}
		}
	}
	return &workload{origin: pageHandler(body, "max-age=600", true), cache: c, keys: 1000, newPicker: uniform(1000), background: invalidate}
}

// endpoint is one side of the comparison.
type endpoint struct {
	name string
	urls []string // by key
}

// run serves w on loopback, drives both endpoints and prints the results.
func run(sc scenario, o options) {
	w := sc.build(o)
	defer w.cache.Close()
	base, stop := serve(w)
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if w.background != nil {
		go w.background(ctx)
	}
	eps := []*endpoint{newEndpoint(base, "raw", w.keys), newEndpoint(base, "cached", w.keys)}
	clients := newClients(o.clients)
	defer closeClients(clients)
	for _, ep := range eps { // warm-up, not measured
		drive(clients, ep, w, 200*time.Millisecond, 0)
	}
	results := map[string]*result{}
	var ratios []float64
	segment := o.duration / time.Duration(o.rounds)
	for round := range o.rounds {
		var rps [2]float64
		for i, ep := range eps {
			res := drive(clients, ep, w, segment, uint64(round))
			rps[i] = res.rps()
			results[ep.name] = results[ep.name].merge(res)
		}
		ratios = append(ratios, rps[1]/rps[0])
	}
	report(sc.name, o, results["raw"], results["cached"], ratios)
}

func newEndpoint(base, name string, keys int) *endpoint {
	ep := &endpoint{name: name, urls: make([]string, keys)}
	for k := range keys {
		ep.urls[k] = fmt.Sprintf("%s/%s/k/%d", base, name, k)
	}
	return ep
}

// serve starts the scenario's server on loopback and returns its base URL
// and a function that shuts it down.
func serve(w *workload) (base string, stop func()) {
	mux := http.NewServeMux()
	mux.Handle("/raw/", w.origin)
	mux.Handle("/cached/", w.cache.Handler(w.origin))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatalf("loadtest: %v", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Shutdown(context.Background()) }
}

// newClients returns n clients, each with its own transport, so that each
// keeps one connection alive.
func newClients(n int) []*http.Client {
	clients := make([]*http.Client, n)
	for i := range clients {
		tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
		clients[i] = &http.Client{Transport: tr}
	}
	return clients
}

func closeClients(clients []*http.Client) {
	for _, c := range clients {
		c.CloseIdleConnections()
	}
}

// Response classes, from Cache-Status.
const (
	classRaw   = iota // no Cache-Status: the raw endpoint
	classHit          // a fresh hit
	classStale        // a stale hit (ttl < 0)
	classFill         // forwarded to the handler
	numClasses
)

func classify(cacheStatus string) int {
	switch {
	case cacheStatus == "":
		return classRaw
	case strings.Contains(cacheStatus, "; hit; ttl=-"):
		return classStale
	case strings.Contains(cacheStatus, "; hit"):
		return classHit
	}
	return classFill
}

// result is what clients measured on one endpoint.
type result struct {
	elapsed time.Duration
	lat     [numClasses][]time.Duration
	errors  int
}

// drive runs every client against ep for d and returns what they measured.
func drive(clients []*http.Client, ep *endpoint, w *workload, d time.Duration, seed uint64) *result {
	parts := make([]*result, len(clients))
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i, c := range clients {
		pick := w.newPicker(rand.New(rand.NewPCG(seed, uint64(i))))
		wg.Go(func() { parts[i] = fetchUntil(c, ep.urls, pick, deadline) })
	}
	wg.Wait()
	total := &result{}
	for _, p := range parts {
		total = total.merge(p)
	}
	total.elapsed = time.Since(start)
	return total
}

// fetchUntil sends requests for picked keys, one at a time, until deadline.
func fetchUntil(c *http.Client, urls []string, pick func() int, deadline time.Time) *result {
	res := &result{}
	for time.Now().Before(deadline) {
		start := time.Now()
		resp, err := c.Get(urls[pick()])
		if err != nil {
			res.errors++
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		class := classify(resp.Header.Get("Cache-Status"))
		res.lat[class] = append(res.lat[class], time.Since(start))
	}
	return res
}

// merge returns r with s added; a nil r is empty.
func (r *result) merge(s *result) *result {
	if r == nil {
		r = &result{}
	}
	r.elapsed += s.elapsed
	r.errors += s.errors
	for i := range r.lat {
		r.lat[i] = append(r.lat[i], s.lat[i]...)
	}
	return r
}

func (r *result) all() []time.Duration { return slices.Concat(r.lat[:]...) }

func (r *result) rps() float64 { return float64(len(r.all())) / r.elapsed.Seconds() }

// percentile returns the p-th percentile of d (which it sorts).
func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[(len(d)-1)*p/100]
}

// report prints a scenario's table.
func report(name string, o options, raw, cached *result, ratios []float64) {
	fmt.Printf("\n== %s: %d clients, %d-byte bodies, %d rounds of %v per endpoint\n",
		name, o.clients, o.size, o.rounds, o.duration/time.Duration(o.rounds))
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "endpoint\treq/s\tp50\tp99\thit%\tstale%\tfill%\terrors\t")
	for _, r := range []struct {
		name string
		res  *result
	}{{"raw", raw}, {"cached", cached}} {
		all := r.res.all()
		fmt.Fprintf(tw, "%s\t%.0f\t%v\t%v\t%s\t%d\t\n", r.name, r.res.rps(),
			round(percentile(all, 50)), round(percentile(all, 99)), shares(r.res), r.res.errors)
	}
	ca, ra := cached.all(), raw.all()
	fmt.Fprintf(tw, "cached/raw\t%.3f\t%.2f\t%.2f\t\t\t\t\t\n", cached.rps()/raw.rps(),
		ratio(percentile(ca, 50), percentile(ra, 50)), ratio(percentile(ca, 99), percentile(ra, 99)))
	tw.Flush()
	fmt.Printf("req/s cached/raw per round: %s (median %.3f)\n", formatRatios(ratios), median(ratios))
	if n := len(cached.lat[classStale]); n > 0 {
		hit, stale := percentile(cached.lat[classHit], 99), percentile(cached.lat[classStale], 99)
		fmt.Printf("stale hits: %d, p99 %v; fresh hits p99 %v; stale/hit p99 %.2f\n", n, round(stale), round(hit), ratio(stale, hit))
	}
}

// shares formats the hit, stale and fill shares of r's responses as three
// tab-separated cells.
func shares(r *result) string {
	n := float64(len(r.all()))
	if r.lat[classRaw] != nil || n == 0 {
		return "-\t-\t-"
	}
	pct := func(class int) float64 { return 100 * float64(len(r.lat[class])) / n }
	return fmt.Sprintf("%.1f\t%.1f\t%.1f", pct(classHit), pct(classStale), pct(classFill))
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func round(d time.Duration) time.Duration { return d.Round(time.Microsecond) }

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	return s[len(s)/2]
}

func formatRatios(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.3f", x)
	}
	return strings.Join(parts, " ")
}
