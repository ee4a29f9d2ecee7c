// Package backoff computes retry delays: exponential, capped, with full
// jitter so that many clients retrying at once spread out.
package backoff

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Policy is an exponential backoff from Min doubling up to Max.
type Policy struct {
	Min, Max time.Duration
	// Rand returns a number in [0, 1); nil means math/rand/v2. Tests set it.
	Rand func() float64
}

// Delay is the wait before retry number attempt (0 for the first retry):
// a random duration between half and all of min(Max, Min*2^attempt).
func (p Policy) Delay(attempt int) time.Duration {
	ceiling := p.Max
	if attempt < 32 {
		if d := p.Min << attempt; d > 0 && d < p.Max {
			ceiling = d
		}
	}
	r := rand.Float64
	if p.Rand != nil {
		r = p.Rand
	}
	half := ceiling / 2
	return half + time.Duration(r()*float64(ceiling-half))
}

// Until calls try until it succeeds or ctx ends, waiting p's delays
// between tries. waiting is told of every failure (so a caller can say
// what it waits for); it is where the caller logs, and Until calls it
// with first set only for the first failure of a run and when the error
// says something new, so a log line marks each change of state, not each
// try. Until returns try's last error when ctx ends first, and at once an
// error try marks Permanent.
func (p Policy) Until(ctx context.Context, try func(context.Context) error, waiting func(err error, first bool)) error {
	last := ""
	for attempt := 0; ; attempt++ {
		err := try(ctx)
		var stop permanent
		switch {
		case err == nil:
			return nil
		case errors.As(err, &stop):
			return stop.err
		}
		if err.Error() != last {
			waiting(err, true)
			last = err.Error()
		} else {
			waiting(err, false)
		}
		t := time.NewTimer(p.Delay(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// permanent marks an error Until does not retry.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so that Until returns it at once, unwrapped.
func Permanent(err error) error { return permanent{err} }
