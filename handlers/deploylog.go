package handlers

import (
	"maunium.net/go/mautrix/id"

	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/store"
)

// DeployHistory is what !deploys reads: the deploys the deploy checks saw.
type DeployHistory interface {
	Deploys(ctx context.Context, component string, since time.Time, limit int) ([]store.DeployRow, error)
}

// deployWindow is the span of the DORA measures !deploys reports.
const deployWindow = 30 * 24 * time.Hour

// maxDeploysListed bounds the deploys !deploys lists one by one.
const maxDeploysListed = 8

// RoomToggle turns something on or off for a room, said by whom.
type RoomToggle func(ctx context.Context, room id.RoomID, on bool, by id.UserID) error

// DeployLog is !deploys [COMPONENT]: the latest deploys with their lead
// times (from the oldest newly deployed commit to the deploy being seen),
// and per component two of the DORA measures over 30 days: how often it
// is deployed, and the median lead time.
func DeployLog(cat *catalog.Catalog, h DeployHistory, now func() time.Time, toggle RoomToggle) bot.Command {
	return bot.Command{
		Name: "deploys", Aliases: []string{"history"}, Args: "[COMPONENT | on | off]", MaxArgs: 1,
		Summary: "recent deploys with their lead times, and deploy frequency per component; room admins turn announcements on or off here",
		Help:    "`deploys on` announces deploys in this room from now on, `deploys off` stops them (room admins).",
		Example: "deploys composer",
		AdminIf: func(args []string) bool { return len(args) == 1 && (args[0] == "on" || args[0] == "off") },
		Run: func(ctx context.Context, req bot.Request) (bot.Reply, error) {
			if len(req.Args) == 1 && (req.Args[0] == "on" || req.Args[0] == "off") && toggle != nil {
				if err := toggle(ctx, req.RoomID, req.Args[0] == "on", req.Sender); err != nil {
					return bot.Reply{}, fmt.Errorf("storing the setting: %w", err)
				}
				if req.Args[0] == "on" {
					return bot.TextReply("%s turned deploy announcements on in this room.", req.Sender), nil
				}
				return bot.TextReply("%s turned deploy announcements off in this room.", req.Sender), nil
			}
			id, name := "", ""
			if len(req.Args) == 1 {
				comp, ok := cat.Find(req.Args[0])
				if !ok {
					return unknownComponent(cat, req, req.Args[0]), nil
				}
				id, name = comp.ID, comp.Name
			}
			t := now()
			rows, err := h.Deploys(ctx, id, t.Add(-deployWindow), 500)
			if err != nil {
				return bot.Reply{}, fmt.Errorf("reading the deploy history: %w", err)
			}
			return RenderDeployLog(cat, name, rows, t), nil
		},
	}
}

// RenderDeployLog lists deploys (newest first) and the 30-day measures;
// name is the component asked about, or "" for all.
func RenderDeployLog(cat *catalog.Catalog, name string, rows []store.DeployRow, now time.Time) bot.Reply {
	if len(rows) == 0 {
		if name != "" {
			return bot.TextReply("No deploy of %s seen in the last 30 days.", name)
		}
		return bot.TextReply("No deploy seen in the last 30 days.")
	}
	m := new(bot.Msg).Bold("Deploys of the last 30 days").Text(", newest first:")
	for i, d := range rows {
		if i == maxDeploysListed {
			m.Line().Textf("…and %d more", len(rows)-maxDeploysListed)
			break
		}
		deployLine(m.Line(), cat, d)
	}
	m.Line().Bold("Per component, 30 days:")
	for _, s := range deployStats(rows) {
		m.Line().Textf("• %s: %s", componentName(cat, s.component), s.describe())
	}
	return m.Reply()
}

func deployLine(m *bot.Msg, cat *catalog.Catalog, d store.DeployRow) {
	repo := ""
	if comp, ok := cat.Find(d.Component); ok {
		repo = comp.Repo
	}
	m.Textf("• %s %s ", d.SeenAt.UTC().Format("2006-01-02 15:04"), componentName(cat, d.Component))
	if d.Rollback {
		m.Text("rolled back ")
	}
	m.Link(short(d.From), "https://github.com/"+repo+"/commit/"+d.From).Text(" → ").
		Link(short(d.To), "https://github.com/"+repo+"/commit/"+d.To)
	var changes []Change
	json.Unmarshal([]byte(d.Changes), &changes)
	switch {
	case d.Commits < 0:
		m.Text(" (no details)")
	case d.Rollback:
		m.Textf(": %s taken out", plural(d.Commits, "commit"))
	default:
		m.Textf(": %s, %s", plural(d.Commits, "commit"), plural(len(changes), "pull request"))
	}
	if d.LeadKnown && !d.Rollback {
		m.Textf(", lead time %s", formatUptime(d.Lead))
	}
}

func componentName(cat *catalog.Catalog, id string) string {
	if comp, ok := cat.Find(id); ok {
		return comp.Name
	}
	return id
}

// componentStats are one component's DORA measures.
type componentStats struct {
	component string
	deploys   int
	rollbacks int
	leads     []time.Duration
}

func (s componentStats) describe() string {
	out := plural(s.deploys, "deploy")
	if s.deploys > 0 {
		out += fmt.Sprintf(" (%.1f a week)", float64(s.deploys)/(deployWindow.Hours()/24/7))
	}
	if s.rollbacks > 0 {
		out += ", " + plural(s.rollbacks, "rollback")
	}
	if len(s.leads) == 0 {
		return out + ", lead time unknown"
	}
	slices.Sort(s.leads)
	median := s.leads[len(s.leads)/2]
	if len(s.leads)%2 == 0 {
		median = (s.leads[len(s.leads)/2-1] + s.leads[len(s.leads)/2]) / 2
	}
	return out + ", median lead time " + formatUptime(median)
}

// deployStats sums the rows up per component, in the order first seen.
func deployStats(rows []store.DeployRow) []componentStats {
	var out []componentStats
	index := map[string]int{}
	for _, d := range rows {
		i, ok := index[d.Component]
		if !ok {
			i = len(out)
			index[d.Component] = i
			out = append(out, componentStats{component: d.Component})
		}
		s := &out[i]
		if d.Rollback {
			s.rollbacks++
			continue
		}
		s.deploys++
		if d.LeadKnown {
			s.leads = append(s.leads, d.Lead)
		}
	}
	return out
}
