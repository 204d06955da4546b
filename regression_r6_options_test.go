package httpcache

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Review 6 #1: WithVary("Accept-Language, Cookie") took the list as one
// bogus header name, so the cache varied on nothing and served alice's page
// to bob. A value that is not one field name is a programmer error.
func TestRegression6WithVaryListIsNotOneName(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"Accept-Language, Cookie", " Accept", "*", ""} {
		assert.PanicsWithValue(t, `httpcache: WithVary(`+strconv.Quote(bad)+`): not a header field name; pass one name per argument`,
			func() { New(WithVary(bad)) }, bad)
	}
	assert.NotPanics(t, func() { New(WithVary("Accept-Language", "cookie")).Close() })
}
