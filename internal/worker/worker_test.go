package worker

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/health"
)

// TestLoopRecordsRoundsAndSurvivesPanics: a working round says what the
// part does, a failing one what is wrong and since when, a panicking one
// that it crashed; the loop goes on after each.
func TestLoopRecordsRoundsAndSurvivesPanics(t *testing.T) {
	var state health.State
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	results := []func() (string, error){
		func() (string, error) { return "watching", nil },
		func() (string, error) { return "", errors.New("connection refused") },
		func() (string, error) { panic("a bug") },
		func() (string, error) { return "watching again", nil },
	}
	i := 0
	l := &Loop{Name: "test", Interval: time.Hour, Health: &state, Now: func() time.Time { return now }, Log: zerolog.Nop(),
		Round: func(context.Context) (string, error) { r := results[i]; i++; return r() }}
	want := []struct {
		ok     bool
		detail string
	}{{true, "watching"}, {false, "connection refused"}, {false, "crashed"}, {true, "watching again"}}
	for n, w := range want {
		now = now.Add(time.Minute)
		l.Once(context.Background())
		r := state.Report("test", "")
		if r.OK != w.ok || !strings.Contains(r.Detail, w.detail) {
			t.Errorf("round %d: %+v, want ok=%v and %q", n+1, r, w.ok, w.detail)
		}
	}
}

// TestLoopRetriesSoonerAfterAFailure: after a failed round the next comes
// after the retry backoff, not the whole interval; a wake runs one at once.
func TestLoopRetriesSoonerAfterAFailure(t *testing.T) {
	rounds := make(chan time.Time, 10)
	wake := make(chan struct{}, 1)
	n := 0
	l := &Loop{Name: "test", Interval: time.Hour, Retry: backoff.Policy{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond},
		Wake: wake, Log: zerolog.Nop(),
		Round: func(context.Context) (string, error) {
			n++
			rounds <- time.Now()
			if n == 1 {
				return "", errors.New("down")
			}
			return "up", nil
		}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx)
	first := <-rounds
	select {
	case second := <-rounds:
		if d := second.Sub(first); d > time.Second {
			t.Errorf("retry after %s", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no retry after a failed round")
	}
	wake <- struct{}{}
	select {
	case <-rounds:
	case <-time.After(5 * time.Second):
		t.Fatal("a wake did not run a round")
	}
}
