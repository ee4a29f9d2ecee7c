// Package handlers holds ibbot's chat commands, one file each. A handler
// takes a bot.Request and returns a bot.Reply; it never talks to Matrix.
//
// A source (anything that brings items in from outside and announces them
// to rooms) lives in handlers/<source>, one package laid out the same way
// for every source: route.go (which rooms get what, declared to
// internal/roomscope), its ingest (webhook.go, poller.go, watcher.go), its
// state and announcing (relay.go), render.go (its messages) and
// commands.go (its chat commands, Requests in and Replies out, like the
// ones here). This package holds only the commands of no source;
// handlers/say the words they all share.
package handlers

import (
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/buildinfo"
	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/health"
)

// Deps is what the commands need from the outside: the bot's own state
// (for !version, !status), and what it knows of the project.
type Deps struct {
	Build   buildinfo.Info
	Started time.Time
	Now     func() time.Time
	Status  StatusSource
	Health  *health.Board // the parts !status reports on; nil: none
	Project Knowledge     // zero: no knowledge commands
}

// Knowledge is what the knowledge commands (!hash, !arch, !contribute,
// !contact) read.
type Knowledge struct {
	Catalog     *catalog.Catalog
	Deployments Deployments
	Comparisons Comparisons
	Diagram     DiagramSource
	Newcomers   IssueFinder // nil: no live search
	PageURL     string      // the public status page; "": none
	NewcomerIn  []string    // repositories !contribute searches
	MailingList string      // shown by !contact when set
}

// Register adds the commands to t, in the order !help lists them.
func Register(t *bot.Table, d Deps) error {
	if d.Now == nil {
		d.Now = time.Now
	}
	if err := t.Add(Help(t)); err != nil {
		return err
	}
	if k := d.Project; k.Catalog != nil {
		err := t.Add(
			Hash(k.Catalog, k.Deployments, k.Comparisons, d.Now, k.PageURL),
			Arch(k.Catalog, k.Deployments, k.Comparisons, k.Diagram),
			Contribute(k.Catalog, k.Newcomers, k.NewcomerIn),
			Contact(k.Catalog, k.MailingList),
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
