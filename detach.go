package httpcache

import (
	"context"
	"sync"
	"time"
)

// detached is the context of a fill. It is not cancelled when the leader's
// client hangs up while the response can still be stored and shared: the
// fill completes for the waiters and the store, within timeout. Once the
// response is a stream (it flushed) or cannot be shared, and the client is
// gone, it is cancelled, so that a handler producing for nobody stops.
type detached struct {
	cancel  context.CancelFunc
	timeout time.Duration
	stopAF  func() bool // stops the watch on the client's context

	mu         sync.Mutex // guards the fields below
	stopped    bool
	clientGone bool
	unshare    bool // the response will not be stored, or it streams
	timer      *time.Timer
}

// detach returns a context carrying parent's values but not its
// cancellation, and the detached that cancels it.
//
// The parent's deadline, if any (http.TimeoutHandler sets one), still
// applies: the handler keeps its time budget.
func detach(parent context.Context, timeout time.Duration) (context.Context, *detached) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	if dl, ok := parent.Deadline(); ok {
		var cancelDL context.CancelFunc
		ctx, cancelDL = context.WithDeadline(ctx, dl)
		cancelOuter := cancel
		cancel = func() { cancelDL(); cancelOuter() }
	}
	d := &detached{cancel: cancel, timeout: timeout}
	d.stopAF = context.AfterFunc(parent, d.gone)
	return ctx, d
}

// gone runs when the client's context is done.
func (d *detached) gone() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clientGone = true
	if d.stopped {
		return
	}
	if d.unshare {
		d.cancel()
	} else if d.timer == nil {
		d.timer = time.AfterFunc(d.timeout, d.cancel)
	}
}

// unshared records that the response will not be stored or shared, or
// that it streams: either way, nobody needs it once its client is gone.
func (d *detached) unshared() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.unshare = true
	if d.clientGone {
		d.cancel()
	}
}

// stop releases the context's resources once the fill is over.
func (d *detached) stop() {
	d.stopAF()
	d.mu.Lock()
	d.stopped = true
	if d.timer != nil {
		d.timer.Stop()
	}
	d.mu.Unlock()
	d.cancel()
}
