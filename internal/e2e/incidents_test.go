package e2e

import (
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestStatuspageIncidentAndMaintenance: a Statuspage stand-in (the v2
// API's documented shape). What the page shows at the first read is
// recorded without a word; a new incident is one message, its updates
// lines in the thread and its state an edit, through a restart; a
// maintenance is announced, reminded at its start and closed; !incidents
// says what is open.
func TestStatuspageIncidentAndMaintenance(t *testing.T) {
	s := newStack(t)
	page := testenv.NewStatuspage(nil, "Image Builder", "Insights")
	defer page.Close()
	old := page.Open("Exports slow", "minor", "We see delays.", "Image Builder")
	page.Update(old, "resolved", "Back to normal.")
	page.Open("Logins fail", "major", "Some logins fail.", "Image Builder")
	cfg := s.config(s.hs.URL)
	cfg.Incidents = config.Incidents{Statuspage: page.URL, Components: []string{"Image Builder"}, Rooms: []string{s.room.String()}, PollInterval: time.Second}
	r := startBot(t, cfg)

	deadline := time.Now().Add(wait)
	for {
		ask := s.human.MustSay(t, s.room, "!incidents")
		got := testenv.Body(s.human.MustWait(t, wait, "the answer to !incidents", testenv.ReplyTo(ask)))
		if strings.HasPrefix(got, "🟠 Logins fail") && strings.Contains(got, "Last resolved: Exports slow") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("!incidents never showed the first read: %q", got)
		}
		time.Sleep(time.Second)
	}

	id := page.Open("Image builds fail", "critical", "Builds of every image type fail.", "Image Builder")
	root := s.human.MustWait(t, wait, "the incident's message", func(e *event.Event) bool {
		return isNotice(e) && strings.HasPrefix(testenv.Body(e), "🔴 Incident: Image builds fail · critical impact · Investigating")
	})
	inThread := func(what, body string) {
		t.Helper()
		s.human.MustWait(t, wait, what, func(e *event.Event) bool {
			rel := e.Content.AsMessage().RelatesTo
			return rel != nil && rel.Type == event.RelThread && rel.EventID == root.ID && testenv.Body(e) == body
		})
	}
	edited := func(what, prefix string) {
		t.Helper()
		s.human.MustWait(t, wait, what, func(e *event.Event) bool {
			m := e.Content.AsMessage()
			return m.RelatesTo != nil && m.RelatesTo.Type == event.RelReplace && m.RelatesTo.EventID == root.ID &&
				m.NewContent != nil && strings.HasPrefix(m.NewContent.Body, prefix)
		})
	}
	inThread("the first update in the thread", "Investigating: Builds of every image type fail.")
	page.Update(id, "identified", "A bad deploy; rolling back.")
	inThread("an update in the thread", "Identified: A bad deploy; rolling back.")
	edited("the message edited", "🔴 Incident: Image builds fail · critical impact · Identified")

	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	page.Update(id, "resolved", "Builds work again.")
	startBot(t, cfg)
	edited("the resolution", "✅ Resolved: Image builds fail · was critical impact")
	inThread("the resolution in the thread", "Resolved: Builds work again.")

	from := time.Now().Add(4 * time.Second)
	m := page.Schedule("Database upgrade", "Builds queue for a while.", from, from.Add(time.Hour), "Image Builder")
	s.human.MustWait(t, wait, "the maintenance announced", func(e *event.Event) bool {
		return isNotice(e) && strings.HasPrefix(testenv.Body(e), "🛠 Maintenance scheduled: Database upgrade")
	})
	s.human.MustWait(t, wait, "the reminder at its start", func(e *event.Event) bool {
		return isNotice(e) && strings.HasPrefix(testenv.Body(e), "🛠 Maintenance starting now: Database upgrade")
	})
	page.Update(m, "completed", "Done.")
	s.human.MustWait(t, wait, "the maintenance closed", func(e *event.Event) bool {
		nc := e.Content.AsMessage().NewContent
		return nc != nil && strings.HasPrefix(nc.Body, "✅ Maintenance completed: Database upgrade")
	})

	roots := map[string]int{}
	for _, e := range s.human.Events() {
		if !isNotice(e) || e.Content.AsMessage().RelatesTo != nil {
			continue
		}
		for _, prefix := range []string{"🟠 Incident: Logins fail", "🟡 Incident: Exports slow", "🔴 Incident: Image builds fail", "🛠 Maintenance scheduled"} {
			if strings.HasPrefix(testenv.Body(e), prefix) {
				roots[prefix]++
			}
		}
	}
	if len(roots) != 2 || roots["🔴 Incident: Image builds fail"] != 1 || roots["🛠 Maintenance scheduled"] != 1 {
		t.Errorf("messages per incident %v: want the first read silent and each new one once, through the restart", roots)
	}
}
