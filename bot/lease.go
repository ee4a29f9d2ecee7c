package bot

import (
	"context"
	"time"
)

// Lease is this replica's leadership when several share one database:
// the bot syncs, answers and sends only while it holds it. A nil Lease is
// a bot that runs alone (SQLite) and always leads.
type Lease interface {
	// Held reports whether leadership was confirmed recently enough to
	// act on (a replica that was frozen has not).
	Held() bool
	// Lost is closed once leadership is lost for good.
	Lost() <-chan struct{}
}

// leaseCheck is how often a bot whose leadership is unconfirmed looks
// again.
const leaseCheck = 20 * time.Millisecond

// leaseOf wraps a possibly nil Lease.
type leaseOf struct{ Lease }

// awaitHeld waits until leadership is confirmed; false when ctx ended or
// leadership was lost first.
func (l leaseOf) awaitHeld(ctx context.Context) bool {
	if l.Lease == nil {
		return ctx.Err() == nil
	}
	for !l.Held() {
		select {
		case <-ctx.Done():
			return false
		case <-l.Lost():
			return false
		case <-time.After(leaseCheck):
		}
	}
	return ctx.Err() == nil
}

// held reports whether leadership is confirmed now (always, without a
// Lease).
func (l leaseOf) held() bool { return l.Lease == nil || l.Held() }

// lost is closed when leadership is lost (never, without a Lease).
func (l leaseOf) lost() <-chan struct{} {
	if l.Lease == nil {
		return nil
	}
	return l.Lost()
}
