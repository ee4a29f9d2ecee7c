package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/newcomers"
)

// IssueFinder lists open issues for newcomers in some repositories.
type IssueFinder interface {
	Find(ctx context.Context, repos []string) ([]newcomers.Issue, error)
}

// Contribute tells a newcomer how to start: the steps everyone needs, the
// set-up of one area, and open issues to pick from, found live.
func Contribute(cat *catalog.Catalog, issues IssueFinder, repos []string) bot.Command {
	var areas []string
	for _, a := range cat.Contribute.Areas {
		areas = append(areas, a.ID)
	}
	return bot.Command{
		Name: "contribute", Aliases: []string{"start", "onboarding"}, Args: "[" + strings.Join(areas, "|") + "]", MaxArgs: 1,
		Summary: "how to start contributing, with open issues for newcomers",
		Example: "contribute frontend",
		Run: func(ctx context.Context, req bot.Request) (bot.Reply, error) {
			m := new(bot.Msg)
			searchIn := repos
			if len(req.Args) == 1 {
				area, ok := cat.FindArea(req.Args[0])
				if !ok {
					return bot.TextReply("I know no area %q; try one of: %s.", req.Args[0], strings.Join(areas, ", ")), nil
				}
				contributeArea(m, area)
				searchIn = []string{area.Repo}
			} else {
				contributeGeneral(m, cat, req.Prefix, areas)
			}
			listIssues(ctx, m, issues, searchIn, req.Prefix)
			return m.Reply(), nil
		},
	}
}

func contributeGeneral(m *bot.Msg, cat *catalog.Catalog, prefix string, areas []string) {
	m.Bold("Contributing to " + cat.Project).Line()
	for i, step := range cat.Contribute.Steps {
		m.Textf("%d. %s", i+1, step).Line()
	}
	m.Text("Set-up per area: ")
	for i, a := range areas {
		if i > 0 {
			m.Text(", ")
		}
		m.Code(prefix + "contribute " + a)
	}
	m.Text(". Questions are welcome right here.").Line()
}

func contributeArea(m *bot.Msg, area *catalog.Area) {
	m.Bold("Contributing to "+area.ID).Text(" (").Link(area.Repo, "https://github.com/"+area.Repo).Text(")").Line()
	for i, step := range area.Steps {
		m.Textf("%d. %s", i+1, step).Line()
	}
}

func listIssues(ctx context.Context, m *bot.Msg, finder IssueFinder, repos []string, prefix string) {
	if finder == nil {
		return
	}
	found, err := finder.Find(ctx, repos)
	switch {
	case err != nil:
		m.Textf("I could not list issues for newcomers just now (%s).", ghclient.Explain(err))
	case len(found) == 0:
		m.Text("No open issue is labelled for newcomers right now: ask here what would help, people are glad to suggest something.")
	default:
		m.Bold("Issues to start with:").Line()
		for _, is := range found {
			m.Text("• ").Link(fmt.Sprintf("%s#%d", is.Repo, is.Number), is.URL).Text(" " + is.Title).Line()
		}
	}
}
