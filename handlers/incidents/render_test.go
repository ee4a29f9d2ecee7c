package incidents

import (
	"strings"
	"testing"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/golden"
)

func render(r bot.Reply) string { return "plain:\n" + r.Plain + "\n\nhtml:\n" + r.HTML + "\n" }

func TestRenderGolden(t *testing.T) {
	list, err := ParseIncidents([]byte(incidentsJSON))
	if err != nil {
		t.Fatal(err)
	}
	in, now := list[0], time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	golden.Check(t, "incident.golden", render(Render(in, now)))
	golden.Check(t, "update.golden", render(RenderUpdate(in.Updates[0])))
	resolved := in
	at := in.CreatedAt.Add(95 * time.Minute)
	resolved.Status, resolved.ResolvedAt = "resolved", &at
	golden.Check(t, "resolved.golden", render(Render(resolved, now)))
	from, until := now.Add(26*time.Hour), now.Add(28*time.Hour)
	m := Incident{ID: "m1", Name: "Database upgrade", Status: "scheduled", Impact: "maintenance", Shortlink: "https://stspg.io/m1",
		ScheduledFor: &from, ScheduledUntil: &until, Components: in.Components}
	golden.Check(t, "maintenance.golden", render(Render(m, now)))
	golden.Check(t, "maintenance-starts.golden", render(RenderStart(m)))
	n := Now{Page: "https://status.redhat.com", AsOf: now.Add(-time.Minute), Components: []Component{{Name: "Image Builder", Status: "partial_outage"}},
		Open: []Brief{brief(in)}, Maintenances: []Brief{brief(m)}, LastResolved: &Brief{Name: "Exports slow", Link: "https://stspg.io/x", ResolvedAt: &at}}
	golden.Check(t, "incidents-command.golden", render(Answer(n, now)))
}

// TestOutsideWordsAreDefused: an incident's name and update come from the
// page: they are escaped and ping nobody.
func TestOutsideWordsAreDefused(t *testing.T) {
	in := Incident{ID: "x", Name: `<img src=x onerror=alert(1)> @room`, Status: "investigating", Impact: "major", Shortlink: "javascript:alert(1)"}
	r := Render(in, time.Now())
	if strings.Contains(r.HTML, "<img") || strings.Contains(r.HTML, "javascript:") || strings.Contains(r.Plain, "@room") {
		t.Errorf("rendered %q / %q", r.Plain, r.HTML)
	}
	u := RenderUpdate(Update{Status: "identified", Body: "<b>@room</b> " + strings.Repeat("long words ", 500)})
	if strings.Contains(u.HTML, "<b>@") || strings.Contains(u.Plain, "@room") || len(u.Plain) > maxUpdate+100 {
		t.Errorf("an update rendered %d bytes: %.200q", len(u.Plain), u.Plain)
	}
}
