package httpcache

import (
	"net/http"
	"testing"
	"time"
)

// A Date more than 292 years old saturates the apparent age at
// MaxInt64; Entry.age then overflows and the always-stale entry reads
// as fresh, so max-age=0 is served without revalidation.
func TestRegression9AncientDateAgeOverflowServedFresh(t *testing.T) {
	t.Parallel()
	store := newCodecStore() // keeps entries past Entry.Expires, as the contract allows
	o := newOrigin("v1", "Cache-Control", "max-age=0", "Etag", `"a"`,
		"Date", "Sat, 01 Jan 1000 00:00:00 GMT")
	c := New(WithStore(store), WithLogger(discardLogger()))
	h := c.Handler(o)
	do(t, h, http.MethodGet, "http://example.com/x")
	time.Sleep(2 * time.Millisecond)
	w := do(t, h, http.MethodGet, "http://example.com/x")
	if n := o.calls.Load(); n != 2 {
		t.Fatalf("max-age=0 entry with ancient Date served without revalidation: handler calls %d, Cache-Status %q, Age %q",
			n, w.Header().Get("Cache-Status"), w.Header().Get("Age"))
	}
}

// A decoded entry may hold any non-negative InitialAge; age() overflows.
func TestRegression9DecodedHugeInitialAgeFresh(t *testing.T) {
	t.Parallel()
	e := &Entry{Status: 200, ResponseTime: time.Now().Add(-time.Second), InitialAge: 1<<63 - 1}
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var d Entry
	if err := d.UnmarshalBinary(b); err != nil {
		t.Skip("rejected:", err)
	}
	if ttl := d.Lifetime - d.age(time.Now()); ttl > 0 {
		t.Fatalf("entry with InitialAge MaxInt64 and Lifetime 0 has ttl %v > 0", ttl)
	}
}
