// Package safe keeps one bad input from taking the bot down: the
// long-running parts run each unit of work (a delivery, a mail, a poll, a
// check) through Call, so a panic, which would otherwise end the process
// and, for stored work, recur at every start, costs only that unit.
package safe

import (
	"fmt"
	"runtime/debug"

	"github.com/rs/zerolog"
)

// Panic is a panic recovered by Call.
type Panic struct {
	Value any
	Stack []byte
}

func (p *Panic) Error() string { return fmt.Sprintf("crashed: %v", p.Value) }

// Call runs fn; a panic in it is logged with its stack under msg, and
// returned as a *Panic.
func Call(log zerolog.Logger, msg string, fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			p := &Panic{Value: v, Stack: debug.Stack()}
			log.Error().Interface("panic", v).Str("stack", string(p.Stack)).Msg(msg)
			err = p
		}
	}()
	return fn()
}
