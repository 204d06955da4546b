package httpcache

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind (net/http's
// afterTest check, through goleak).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
