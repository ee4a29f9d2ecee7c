package incidents

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/handlers/say"
)

// maxUpdate bounds an update's words in a thread line.
const maxUpdate = 1500

// Render is an incident's one message, edited as it changes: what it is,
// how bad, where it stands, what it touches, and the page's link.
func Render(in Incident, now time.Time) bot.Reply {
	m := new(bot.Msg)
	switch {
	case in.Maintenance():
		renderMaintenance(m, in, now)
	case in.Over():
		m.Text("✅ Resolved: ").Bold(in.Name)
		if in.Impact != "" && in.Impact != "none" {
			m.Text(" · was " + in.Impact + " impact")
		}
		if in.ResolvedAt != nil {
			m.Text(" · lasted " + say.Uptime(in.ResolvedAt.Sub(in.CreatedAt)))
		}
	default:
		m.Text(impactIcon(in.Impact) + " Incident: ").Bold(in.Name)
		if in.Impact != "" && in.Impact != "none" {
			m.Text(" · " + in.Impact + " impact")
		}
		m.Text(" · " + words(in.Status))
	}
	if len(in.Components) > 0 {
		m.Line().Text("Affects: ")
		for i, c := range in.Components {
			if i > 0 {
				m.Text(", ")
			}
			m.Text(c.Name)
			if !in.Over() && c.Status != "" && c.Status != "operational" {
				m.Text(" (" + strings.ReplaceAll(c.Status, "_", " ") + ")")
			}
		}
	}
	m.Line().Link("Details on the status page", in.Shortlink)
	return m.Reply()
}

func renderMaintenance(m *bot.Msg, in Incident, now time.Time) {
	switch {
	case in.Over():
		m.Text("✅ Maintenance completed: ").Bold(in.Name)
	case in.startsBy(now):
		m.Text("🛠 Maintenance under way: ").Bold(in.Name)
	default:
		m.Text("🛠 Maintenance scheduled: ").Bold(in.Name)
	}
	m.Text(" · " + window(in))
}

// RenderUpdate is an update's line in the incident's thread.
func RenderUpdate(u Update) bot.Reply {
	m := new(bot.Msg).Bold(words(u.Status))
	if body := strings.TrimSpace(u.Body); body != "" {
		m.Text(": " + cut(body, maxUpdate))
	}
	return m.Reply()
}

// RenderStart reminds the room that a maintenance begins.
func RenderStart(in Incident) bot.Reply {
	m := new(bot.Msg).Text("🛠 Maintenance starting now: ").Bold(in.Name)
	if in.ScheduledUntil != nil {
		m.Text(", until " + hourUTC(*in.ScheduledUntil))
	}
	return m.Text(" — ").Link("details", in.Shortlink).Reply()
}

// window is a maintenance's time, in UTC: "Sat 5 Dec 10:00–12:00 UTC".
func window(in Incident) string {
	from := in.ScheduledFor.UTC()
	s := from.Format("Mon 2 Jan 15:04")
	if in.ScheduledUntil == nil {
		return s + " UTC"
	}
	until := in.ScheduledUntil.UTC()
	if until.YearDay() == from.YearDay() && until.Year() == from.Year() {
		return s + "–" + until.Format("15:04") + " UTC"
	}
	return s + " – " + until.Format("Mon 2 Jan 15:04") + " UTC"
}

func hourUTC(t time.Time) string { return t.UTC().Format("15:04") + " UTC" }

func impactIcon(impact string) string {
	switch impact {
	case "critical":
		return "🔴"
	case "major":
		return "🟠"
	case "minor":
		return "🟡"
	}
	return "🔵"
}

// words turns the API's values into words: partial_outage → partial outage,
// identified → Identified.
func words(v string) string {
	v = strings.ReplaceAll(v, "_", " ")
	if v == "" {
		return v
	}
	r, n := utf8.DecodeRuneInString(v)
	return strings.ToUpper(string(r)) + v[n:]
}

// cut shortens s to at most n bytes, at a word, marking the cut.
func cut(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	if i := strings.LastIndexByte(s, ' '); i > n/2 {
		s = s[:i]
	}
	return s + "…"
}
