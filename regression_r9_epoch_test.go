package httpcache

import (
	"context"
	"net/http"
	"testing"
)

// A process restarted against a persistent store (default MemoryVersions,
// whose epoch restarts at 0) finds entries whose Epoch is above its own
// epoch; its invalidations produce versions below that Epoch, so they never
// reach those entries.
func TestRegression9EntryEpochFromEarlierProcessEscapesInvalidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newCodecStore() // a shared store that outlives the process
	o := newOrigin("old", "Cache-Control", "max-age=3600")

	before := New(WithStore(store), WithLogger(discardLogger())) // the process before the restart
	for range 5 {
		if err := before.Invalidate(ctx, "unrelated"); err != nil {
			t.Fatal(err)
		}
	}
	do(t, before.Handler(o), http.MethodGet, "http://example.com/x")

	after := New(WithStore(store), WithLogger(discardLogger())) // the restarted process
	h := after.Handler(o)
	if err := after.InvalidateURL(ctx, "http://example.com/x"); err != nil {
		t.Fatal(err)
	}
	o.body = "new"
	w := do(t, h, http.MethodGet, "http://example.com/x")
	if w.Body.String() != "new" {
		t.Fatalf("after InvalidateURL returned, served %q (Cache-Status %q)", w.Body.String(), w.Header().Get("Cache-Status"))
	}
}
