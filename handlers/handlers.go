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

// Deps is what the commands need from the outside: the bot's own state
// (for !version, !status), and what it knows of the project.
type Deps struct {
	Build   buildinfo.Info
	Started time.Time
	Now     func() time.Time
	Status  StatusSource
	Health  *health.Board // the parts !status reports on; nil: none
	Project Knowledge     // zero: no knowledge commands
	// DeploysToggle turns deploy announcements on or off in a room (!deploys
	// on|off); nil: not offered.
	DeploysToggle RoomToggle
}

// Knowledge is what the knowledge commands (!hash, !arch, !contribute,
// !contact) and the deploy announcements read.
type Knowledge struct {
	Catalog     *catalog.Catalog
	Deployments Deployments
	Comparisons Comparisons
	Diagram     DiagramSource
	Newcomers   IssueFinder   // nil: no live search
	History     DeployHistory // nil: no !deploys
	Pulls       PullRequests  // nil: no !deployed
	PageURL     string        // the public status page; "": none
	NewcomerIn  []string      // repositories !contribute searches
	MailingList string        // shown by !contact when set
}

// Register adds the commands to t, in the order !help lists them.
func Register(t *bot.Table, d Deps) error {
	if d.Now == nil {
		d.Now = time.Now
	}
	if err := t.Add(Help(t)); err != nil {
		return err
	}
	if k := d.Project; k.Catalog != nil && k.History != nil {
		if err := t.Add(DeployLog(k.Catalog, k.History, d.Now, d.DeploysToggle)); err != nil {
			return err
		}
	}
	if k := d.Project; k.Catalog != nil && k.Pulls != nil {
		live := &Live{Catalog: k.Catalog, Deploys: k.Deployments, Compare: k.Comparisons, Pulls: k.Pulls, History: k.History, Now: d.Now}
		if err := t.Add(live.Command()); err != nil {
			return err
		}
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
