// Package backoff computes retry delays: exponential, capped, with full
// jitter so that many clients retrying at once spread out.
package backoff

import (
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
