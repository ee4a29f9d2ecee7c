package incidents

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/handlers/say"
)

// Store is what !incidents reads: what the page showed at its last look.
type Store interface {
	Get(ctx context.Context, key string) (string, bool, error)
}

// Command is !incidents: the open incidents and maintenances of the
// components followed, their states, and the last incident resolved; room
// admins mute and unmute here what the config sends.
func Command(st Store, scope *Scope, now func() time.Time) bot.Command {
	return bot.Command{
		Name: "incidents", Aliases: []string{"outages"}, Args: "[mute|unmute]", MaxArgs: 1,
		Summary: "open incidents and maintenances, from the status page",
		Help: "`incidents mute` stops the status page's incidents and maintenances in this room, `incidents unmute` " +
			"brings them back (room admins).",
		AdminIf: say.Muting,
		Run: func(ctx context.Context, req bot.Request) (bot.Reply, error) {
			if len(req.Args) > 0 {
				return say.Mute(ctx, scope, req, Target, "the status page's incidents", now())
			}
			n, ok, err := ReadNow(ctx, st)
			if err != nil {
				return bot.Reply{}, fmt.Errorf("reading the incidents: %w", err)
			}
			if !ok {
				return bot.TextReply("I have not read the status page yet; ask again in a minute."), nil
			}
			return Answer(n, now()), nil
		},
	}
}

// Answer renders what the page showed for !incidents.
func Answer(n Now, now time.Time) bot.Reply {
	m := new(bot.Msg)
	if len(n.Open) == 0 {
		m.Text("✓ No open incident")
	}
	for i, b := range n.Open {
		if i > 0 {
			m.Line()
		}
		m.Text(impactIcon(b.Impact)+" ").Link(b.Name, b.Link)
		m.Textf(" · %s since %s", strings.ToLower(words(b.Status)), say.Ago(now, b.Since))
		if b.Latest != "" {
			m.Text(" — " + b.Latest)
		}
	}
	for _, b := range n.Maintenances {
		m.Line().Text("🛠 ").Link(b.Name, b.Link).Text(" · " + window(Incident{ScheduledFor: b.ScheduledFor, ScheduledUntil: b.Until}))
		if b.Status == "in_progress" || b.Status == "verifying" || (b.ScheduledFor != nil && !now.Before(*b.ScheduledFor)) {
			m.Text(" (under way)")
		}
	}
	if len(n.Components) > 0 {
		m.Line().Text("Components: ")
		for i, c := range n.Components {
			if i > 0 {
				m.Text(" · ")
			}
			m.Text(c.Name + ": " + strings.ReplaceAll(c.Status, "_", " "))
		}
	}
	if r := n.LastResolved; r != nil {
		m.Line().Text("Last resolved: ").Link(r.Name, r.Link).Text(", " + say.Ago(now, *r.ResolvedAt))
	}
	m.Line().Textf("As of %s, from %s", say.Ago(now, n.AsOf), host(n.Page))
	return m.Reply()
}

func host(page string) string {
	if u, err := url.Parse(page); err == nil && u.Host != "" {
		return u.Host
	}
	return "the status page"
}
