package bot

import (
	"context"
	"sync"
	"time"
)

// gate orders the sends of the rooms' workers: while the homeserver rate
// limits the account (it limits the account, not a room), no worker sends
// before the time it gave; and an answer someone waits for goes before
// every announcement: announcements wait while an answer waits or is
// being sent.
type gate struct {
	now func() time.Time

	mu        sync.Mutex
	notBefore time.Time
	urgent    int           // answers waiting for the gate or being sent
	changed   chan struct{} // closed and replaced at every change
}

func newGate(now func() time.Time) *gate {
	return &gate{now: now, changed: make(chan struct{})}
}

// enter waits until a send may start; false when ctx ended first. Every
// enter that returns true is followed by leave.
func (g *gate) enter(ctx context.Context, urgent bool) bool {
	g.mu.Lock()
	if urgent {
		g.urgent++
	}
	for {
		wait := g.notBefore.Sub(g.now())
		if wait <= 0 && (urgent || g.urgent == 0) {
			g.mu.Unlock()
			return true
		}
		changed := g.changed
		g.mu.Unlock()
		if wait <= 0 {
			wait = time.Hour // until an answer is sent
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			if urgent {
				g.leave(true)
			}
			return false
		case <-changed:
		case <-timer.C:
		}
		timer.Stop()
		g.mu.Lock()
	}
}

// leave ends a send begun with enter.
func (g *gate) leave(urgent bool) {
	if !urgent {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.urgent--
	g.signal()
}

// limit holds every send for d (a rate limit's retry time).
func (g *gate) limit(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until := g.now().Add(d); until.After(g.notBefore) {
		g.notBefore = until
		g.signal()
	}
}

func (g *gate) signal() {
	close(g.changed)
	g.changed = make(chan struct{})
}
