package deploys

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/handlers/say"
	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/prodhash"
	"github.com/osbuild/ibbot/internal/store"
)

// Change is a merged pull request a deploy brought (or took out).
type Change struct {
	PR    int    `json:"pr"`
	Title string `json:"title"`
}

func changesJSON(merged []prodhash.Commit) string {
	out := make([]Change, 0, len(merged))
	for _, c := range merged {
		out = append(out, Change{PR: c.PR, Title: strings.TrimSuffix(c.Title, fmt.Sprintf(" (#%d)", c.PR))})
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// RenderDeploy is the announcement of one deploy.
func RenderDeploy(comp *catalog.Component, from, to string, cmp *prodhash.Comparison, maxChanges int) bot.Reply {
	m := new(bot.Msg).Bold(comp.Name+" deployed").Text(": ").
		Link(say.Short(from), "https://github.com/"+comp.Repo+"/commit/"+from).Text(" → ").
		Link(say.Short(to), "https://github.com/"+comp.Repo+"/commit/"+to)
	if cmp == nil {
		return m.Text(".").Reply()
	}
	m.Textf(", %s. ", say.Plural(cmp.Behind, "commit")).Link("Compare", cmp.URL)
	listChanges(m, comp, cmp.Merged(), maxChanges)
	return m.Reply()
}

// RenderRollback is the announcement of a return to an older commit: how
// many commits it takes out of production, and which merged changes.
func RenderRollback(comp *catalog.Component, from, to string, removed int, undone *prodhash.Comparison, maxChanges int) bot.Reply {
	m := new(bot.Msg).Bold(comp.Name+" rolled back").Text(": ").
		Link(say.Short(from), "https://github.com/"+comp.Repo+"/commit/"+from).Text(" → ").
		Link(say.Short(to), "https://github.com/"+comp.Repo+"/commit/"+to).
		Textf(", %s taken out of production.", say.Plural(removed, "commit"))
	if undone == nil {
		return m.Reply()
	}
	m.Text(" ").Link("Compare", undone.URL)
	listChanges(m, comp, undone.Merged(), maxChanges)
	return m.Reply()
}

func listChanges(m *bot.Msg, comp *catalog.Component, merged []prodhash.Commit, maxChanges int) {
	for i, c := range merged {
		if i == maxChanges {
			m.Line().Textf("…and %d more", len(merged)-maxChanges)
			break
		}
		// A squash merge's title ends in "(#N)", which the link says already.
		title := strings.TrimSuffix(c.Title, fmt.Sprintf(" (#%d)", c.PR))
		m.Line().Text("• ").Link(fmt.Sprintf("#%d", c.PR), fmt.Sprintf("https://github.com/%s/pull/%d", comp.Repo, c.PR)).Text(" " + title)
	}
}

// RenderLog lists deploys (newest first) and the 30-day measures;
// name is the component asked about, or "" for all.
func RenderLog(cat *catalog.Catalog, name string, rows []store.DeployRow, now time.Time) bot.Reply {
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
	m.Link(say.Short(d.From), "https://github.com/"+repo+"/commit/"+d.From).Text(" → ").
		Link(say.Short(d.To), "https://github.com/"+repo+"/commit/"+d.To)
	var changes []Change
	json.Unmarshal([]byte(d.Changes), &changes)
	switch {
	case d.Commits < 0:
		m.Text(" (no details)")
	case d.Rollback:
		m.Textf(": %s taken out", say.Plural(d.Commits, "commit"))
	default:
		m.Textf(": %s, %s", say.Plural(d.Commits, "commit"), say.Plural(len(changes), "pull request"))
	}
	if d.LeadKnown && !d.Rollback {
		m.Textf(", lead time %s", say.Uptime(d.Lead))
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
	out := say.Plural(s.deploys, "deploy")
	if s.deploys > 0 {
		out += fmt.Sprintf(" (%.1f a week)", float64(s.deploys)/(deployWindow.Hours()/24/7))
	}
	if s.rollbacks > 0 {
		out += ", " + say.Plural(s.rollbacks, "rollback")
	}
	if len(s.leads) == 0 {
		return out + ", lead time unknown"
	}
	slices.Sort(s.leads)
	median := s.leads[len(s.leads)/2]
	if len(s.leads)%2 == 0 {
		median = (s.leads[len(s.leads)/2-1] + s.leads[len(s.leads)/2]) / 2
	}
	return out + ", median lead time " + say.Uptime(median)
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
