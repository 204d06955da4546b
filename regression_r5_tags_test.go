package httpcache

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Review 5 #5: Tag deduplicated every tag against all those recorded so
// far, even past the 64 an entry keeps: a page tagging each of 50,000 items
// cost seconds of CPU, for a response that is not stored anyway. Past the
// limit a state keeps nothing more, so the work per tag stays bounded.
func TestRegression5ManyTagsBounded(t *testing.T) {
	t.Parallel()
	tags := make([]string, 50000)
	for i := range tags {
		tags[i] = fmt.Sprintf("item:%d", i)
	}
	c := New(WithLogger(discardLogger()))
	defer c.Close()
	r := httptest.NewRequest("GET", "/search?q=a", nil)
	outer := newState(c, nil, r)
	inner := newState(c, nil, withState(r, outer))
	Tag(withState(r, inner).Context(), tags...)
	Tag(context.Background(), "ignored")
	for _, st := range []*reqState{inner, outer} {
		assert.LessOrEqual(t, len(st.taken()), maxTags+1)
		assert.Equal(t, "too many tags", st.refusal())
	}
}
