package health

import (
	"testing"
	"time"
)

func TestStateTransitions(t *testing.T) {
	var s State
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	if r := s.Report("mail", "not connected yet"); r.Part != "mail" || r.OK || r.Detail != "not connected yet" || !r.Since.IsZero() {
		t.Errorf("before running: %+v", r)
	}
	s.Failing("connection refused", t0)
	s.Failing("connection refused again", t0.Add(time.Minute))
	if r := s.Report("mail", ""); r.OK || !r.Since.Equal(t0) || r.Detail != "connection refused again" || !r.Last.IsZero() {
		t.Errorf("failing: %+v (the failure began at the first attempt)", r)
	}
	s.Working("watching INBOX", t0.Add(2*time.Minute))
	s.Working("watching INBOX", t0.Add(3*time.Minute))
	if r := s.Report("mail", ""); !r.OK || !r.Since.Equal(t0.Add(2*time.Minute)) || !r.Last.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("working: %+v (working since the first success, last at the latest)", r)
	}
	s.Failing("connection reset", t0.Add(4*time.Minute))
	if r := s.Report("mail", ""); r.OK || !r.Since.Equal(t0.Add(4*time.Minute)) || !r.Last.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("failing again: %+v (keeps when it last worked)", r)
	}
}

type named string

func (n named) Health() Report { return Report{Part: string(n)} }

func TestBoardKeepsOrder(t *testing.T) {
	var b Board
	if (*Board)(nil).Reports() != nil {
		t.Error("a nil board reported something")
	}
	b.Add(named("mail"))
	b.Add(named("GitHub polling"))
	if r := b.Reports(); len(r) != 2 || r[0].Part != "mail" || r[1].Part != "GitHub polling" {
		t.Errorf("reports %+v", r)
	}
}
