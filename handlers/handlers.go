// Package handlers holds ibbot's chat commands, one file each. A handler
// takes a bot.Request and returns a bot.Reply; it never talks to Matrix.
package handlers

import (
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/buildinfo"
)

// Deps is what the built-in commands need from the outside.
type Deps struct {
	Build   buildinfo.Info
	Started time.Time
	Now     func() time.Time
	Status  StatusSource
}

// Register adds the built-in commands to t, in the order !help lists them.
func Register(t *bot.Table, d Deps) error {
	if d.Now == nil {
		d.Now = time.Now
	}
	return t.Add(
		Help(t),
		Ping(d.Now),
		Version(d.Build, d.Started, d.Now),
		Status(d.Status, d.Started, d.Now),
	)
}
