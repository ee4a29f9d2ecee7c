// Package health lets the long-running parts of the bot (the mail watcher,
// the GitHub poller) say how they are doing, so `!status` can tell room
// admins in chat what the operator would otherwise dig out of the logs.
package health

import (
	"sync"
	"time"
)

// Report is one part's state.
type Report struct {
	Part   string    // "mail", "GitHub polling"
	OK     bool      // working as it should
	Detail string    // what it does, or what is wrong
	Since  time.Time // when the current state (working, failing) began
	Last   time.Time // the last time it did its job (read the mailbox, polled); zero: never
	// NotAllowed: the part works but lacks a permission somewhere (a room
	// power level): a setting for a room's admins, not a fault.
	NotAllowed bool
}

// Reporter is a part that reports its state.
type Reporter interface {
	Health() Report
}

// Board gathers the reporters. Parts are added while the bot is wired;
// Add and Reports may run at the same time.
type Board struct {
	mu    sync.Mutex
	parts []Reporter
}

// Add registers a part.
func (b *Board) Add(r Reporter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.parts = append(b.parts, r)
}

// Reports asks every part for its state, in the order they were added.
func (b *Board) Reports() []Report {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	parts := append([]Reporter(nil), b.parts...)
	b.mu.Unlock()
	out := make([]Report, 0, len(parts))
	for _, p := range parts {
		out = append(out, p.Health())
	}
	return out
}

// State is a part's state, kept by the part itself and safe to update
// from its goroutine while !status reads it. The zero value is a part that
// has not run yet.
type State struct {
	mu sync.Mutex
	r  Report
}

// Working records that the part did its job at now.
func (s *State) Working(detail string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.r.OK {
		s.r.OK, s.r.Since = true, now
	}
	s.r.Detail, s.r.Last = detail, now
}

// Failing records what went wrong at now.
func (s *State) Failing(problem string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.r.OK || s.r.Since.IsZero() {
		s.r.OK, s.r.Since = false, now
	}
	s.r.Detail = problem
}

// Report is the part's current state under its name; idle describes a
// part that has not run yet.
func (s *State) Report(part, idle string) Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.r
	r.Part = part
	if r.Detail == "" {
		r.Detail = idle
	}
	return r
}
