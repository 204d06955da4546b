// Command proxy is a caching reverse proxy: it forwards every request to one
// upstream and caches the responses by the HTTP caching rules of RFC 9111.
//
// Only what the upstream's headers allow is stored: there is no default TTL,
// so a response without explicit freshness (Cache-Control max-age or
// s-maxage, Expires) is revalidated or fetched again on every request. Every
// response carries a Cache-Status field (RFC 9211) saying what the cache did.
//
// Usage:
//
//	proxy -upstream http://127.0.0.1:9000 [-listen 127.0.0.1:8080] [-stale-if-error 5m]
//
// When the upstream fails (it is unreachable, or answers 5xx), a stale copy
// is served instead for up to -stale-if-error past its freshness, unless the
// response forbade it (must-revalidate, proxy-revalidate, s-maxage,
// no-cache): RFC 9111 Section 4.2.4 lets a cache disconnected from its
// origin serve stale, and nginx's proxy_cache_use_stale or Varnish's grace
// do the same. -stale-if-error 0 turns it off.
//
// The client's Host header is passed to the upstream unchanged, as
// [httputil.NewSingleHostReverseProxy] does, and X-Forwarded-For,
// X-Forwarded-Host and X-Forwarded-Proto are set. The proxy stops gracefully
// on SIGINT or SIGTERM: it stops accepting connections, waits for the
// requests in flight, then closes the cache.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cacheaside/httpcache"
)

// shutdownTimeout bounds how long a graceful shutdown waits for the requests
// in flight.
const shutdownTimeout = 10 * time.Second

// readHeaderTimeout bounds how long a client may take to send its request
// header.
const readHeaderTimeout = 10 * time.Second

// config holds the parsed command line.
type config struct {
	listen       string
	upstream     *url.URL
	staleIfError time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "proxy:", err)
		os.Exit(1)
	}
}

// run parses args, serves until ctx is done, then shuts down gracefully. Logs
// go to stderr.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	c := httpcache.New(httpcache.WithLogger(logger), httpcache.WithStaleIfError(cfg.staleIfError))
	defer func() {
		if err := c.Close(); err != nil {
			logger.Error("closing the cache", "err", err)
		}
	}()
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           c.Handler(newProxy(cfg.upstream, logger)),
		ReadHeaderTimeout: readHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("listening", "addr", ln.Addr().String(), "upstream", cfg.upstream.String())
	return serve(ctx, srv, ln, logger)
}

// parseFlags parses the command line; usage and errors go to stderr.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	upstream := fs.String("upstream", "", "URL of the upstream server (required), e.g. http://127.0.0.1:9000")
	staleIfError := fs.Duration("stale-if-error", 5*time.Minute, "how long past its freshness a stale copy answers for a failing upstream (0: never)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if *staleIfError < 0 {
		return config{}, fmt.Errorf("-stale-if-error %v: must not be negative", *staleIfError)
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	u, err := parseUpstream(*upstream)
	if err != nil {
		return config{}, err
	}
	return config{listen: *listen, upstream: u, staleIfError: *staleIfError}, nil
}

// parseUpstream checks that raw is an absolute http or https URL.
func parseUpstream(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("-upstream is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("-upstream: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("-upstream: want an http:// or https:// URL with a host, got %q", raw)
	}
	return u, nil
}

// newProxy returns a reverse proxy to upstream that keeps the client's Host
// header, sets the X-Forwarded-* fields, announces that it understands
// Surrogate-Control, and logs upstream errors to logger.
func newProxy(upstream *url.URL, logger *slog.Logger) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(upstream)
			r.Out.Host = r.In.Host
			r.SetXForwarded()
			r.Out.Header.Add("Surrogate-Capability", httpcache.SurrogateCapability)
		},
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError),
	}
}

// serve runs srv on ln until ctx is done or the server fails, then shuts it
// down, waiting at most shutdownTimeout for the requests in flight.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, logger *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}
