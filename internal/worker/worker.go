// Package worker runs the bot's periodic parts (deploy checks, GitHub
// polling, the relay's queue) one way: a round at once, then one every
// interval or when woken; a panic fails the round, not the bot; a failed
// round is tried again sooner, with backoff; and each outcome goes to the
// part's health state, which !status shows.
package worker

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/safe"
)

// Round does one round of work. detail says what the part does, for
// !status ("checking 4 components every 10m0s"); empty leaves it as it was.
type Round func(ctx context.Context) (detail string, err error)

// Loop runs Round until its context ends.
type Loop struct {
	Name     string        // in log lines: "deploy check"
	Interval time.Duration // between rounds
	// Retry, when set, brings a round after a failed one forward (never
	// later than Interval); zero waits the interval.
	Retry  backoff.Policy
	Wake   <-chan struct{} // a value here runs a round at once; may be nil
	Round  Round
	Health *health.State    // may be nil
	Now    func() time.Time // default time.Now
	Log    zerolog.Logger

	failures int
}

// Run does rounds until ctx ends.
func (l *Loop) Run(ctx context.Context) error {
	for {
		err := l.Once(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if !l.sleep(ctx, l.pause(err)) {
			return nil
		}
	}
}

// Once does one round, safely, and records how it went.
func (l *Loop) Once(ctx context.Context) error {
	var detail string
	err := safe.Call(l.Log, l.Name+" crashed", func() (err error) {
		detail, err = l.Round(ctx)
		return err
	})
	if ctx.Err() != nil {
		return err
	}
	now := l.now()
	switch {
	case err != nil:
		l.failures++
		l.Log.Warn().Err(err).Int("failures", l.failures).Msg(l.Name + " failed; will try again")
		if l.Health != nil {
			l.Health.Failing(problem(err), now)
		}
	default:
		l.failures = 0
		if l.Health != nil && detail != "" {
			l.Health.Working(detail, now)
		}
	}
	return err
}

// problem is what !status shows of an error: a panic says only that.
func problem(err error) string {
	var p *safe.Panic
	if errors.As(err, &p) {
		return "crashed (a bug; the log has the details)"
	}
	return err.Error()
}

func (l *Loop) pause(err error) time.Duration {
	if err == nil || l.Retry.Min <= 0 {
		return l.Interval
	}
	return min(l.Interval, l.Retry.Delay(l.failures-1))
}

func (l *Loop) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-l.Wake:
	}
	return true
}

func (l *Loop) now() time.Time {
	if l.Now == nil {
		return time.Now()
	}
	return l.Now()
}
