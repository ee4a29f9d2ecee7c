package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestUntilTellsChangesOnly: Until retries until try succeeds, telling
// every failure but marking only the first of a run of equal errors (a
// log line per change of state); a Permanent error ends it at once.
func TestUntilTellsChangesOnly(t *testing.T) {
	p := Policy{Min: time.Microsecond, Max: time.Microsecond}
	errs := []error{errors.New("refused"), errors.New("refused"), errors.New("starting up"), nil}
	var told []bool
	i := 0
	err := p.Until(context.Background(), func(context.Context) error { i++; return errs[i-1] },
		func(_ error, changed bool) { told = append(told, changed) })
	if err != nil || i != 4 || len(told) != 3 || !told[0] || told[1] || !told[2] {
		t.Errorf("err %v after %d tries, told %v; want success after 4, told [true false true]", err, i, told)
	}
	bad := errors.New("wrong password")
	if err := p.Until(context.Background(), func(context.Context) error { return Permanent(bad) }, func(error, bool) {
		t.Error("a permanent error was retried")
	}); err != bad {
		t.Errorf("Until returned %v, want the permanent error itself", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Until(ctx, func(context.Context) error { return errors.New("down") }, func(error, bool) {}); err == nil {
		t.Error("Until succeeded though ctx ended and try never did")
	}
}
