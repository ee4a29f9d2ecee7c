// Package handlers holds ibbot's chat commands, one file each. A handler
// takes a bot.Request and returns a bot.Reply; it never talks to Matrix.
package handlers

import (
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/buildinfo"
	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/health"
)

// Deps is what the commands need from the outside.
type Deps struct {
	Build   buildinfo.Info
	Started time.Time
	Now     func() time.Time
	Status  StatusSource
	Health  *health.Board // the parts !status reports on; nil: none

	Catalog     *catalog.Catalog
	Deployments Deployments
	Comparisons Comparisons
	Diagram     DiagramSource
	Newcomers   IssueFinder
	NewcomerIn  []string // repositories !contribute searches
	MailingList string   // shown by !contact when set
}

// Register adds the commands to t, in the order !help lists them.
func Register(t *bot.Table, d Deps) error {
	if d.Now == nil {
		d.Now = time.Now
	}
	if err := t.Add(Help(t)); err != nil {
		return err
	}
	if d.Catalog != nil {
		err := t.Add(
			Hash(d.Catalog, d.Deployments, d.Comparisons, d.Now),
			Arch(d.Catalog, d.Deployments, d.Diagram),
			Contribute(d.Catalog, d.Newcomers, d.NewcomerIn),
			Contact(d.Catalog, d.MailingList),
		)
		if err != nil {
			return err
		}
	}
	return t.Add(
		Ping(d.Now),
		Version(d.Build, d.Started, d.Now),
		Status(d.Status, d.Health, d.Started, d.Now),
	)
}
