package alerts

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/osbuild/ibbot/bot"
)

// Render is a group's one message, edited as its alerts fire and resolve:
// its state and severity, what the alerts say (summary, description),
// their runbook, and where to silence them.
func Render(g Group) bot.Reply {
	m := new(bot.Msg)
	firing := g.firing()
	name := g.name()
	if g.Status == "resolved" {
		m.Bold("✓ resolved: " + name)
	} else {
		m.Bold(fmt.Sprintf("🔥 %s", name))
		if sev := g.CommonLabels["severity"]; sev != "" {
			m.Text(" (" + sev + ")")
		}
		m.Textf(": %d firing", firing)
	}
	if s := g.CommonAnnotations["summary"]; s != "" {
		m.Text(" — " + s)
	}
	for _, a := range g.Alerts {
		m.Line().Text("• ")
		if a.Status == "resolved" {
			m.Text("✓ ")
		}
		m.Text(a.title(g))
		if d := a.Annotations["description"]; d != "" {
			m.Text(": " + d)
		}
		if rb := a.Annotations["runbook_url"]; rb != "" {
			m.Text(" ").Link("runbook", rb)
		}
	}
	if g.TruncatedAlerts > 0 {
		m.Line().Textf("…and %d more", g.TruncatedAlerts)
	}
	if link := silenceLink(g); link != "" && g.Status == "firing" {
		m.Line().Link("Silence", link)
	}
	return m.Reply()
}

func (g Group) firing() int {
	n := 0
	for _, a := range g.Alerts {
		if a.Status == "firing" {
			n++
		}
	}
	return n
}

// title names an alert by the labels its group does not share.
func (a Alert) title(g Group) string {
	var keys []string
	for k := range a.Labels {
		if _, common := g.CommonLabels[k]; !common {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+a.Labels[k])
	}
	if len(parts) == 0 {
		return a.Annotations["summary"]
	}
	return strings.Join(parts, ", ")
}

// silenceLink opens Alertmanager's new-silence form for the group's
// common labels.
func silenceLink(g Group) string {
	if g.ExternalURL == "" || !bot.SafeLink(g.ExternalURL) {
		return ""
	}
	keys := make([]string, 0, len(g.GroupLabels))
	for k := range g.GroupLabels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var matchers []string
	for _, k := range keys {
		matchers = append(matchers, fmt.Sprintf("%s=%q", k, g.GroupLabels[k]))
	}
	return strings.TrimSuffix(g.ExternalURL, "/") + "/#/silences/new?filter=" + url.QueryEscape("{"+strings.Join(matchers, ", ")+"}")
}

// name is the group's alert name.
func (g Group) name() string {
	if n := g.GroupLabels["alertname"]; n != "" {
		return n
	}
	return g.CommonLabels["alertname"]
}
