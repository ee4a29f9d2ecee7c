package alerts

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/handlers/say"
)

// KV is what !alerts reads: the groups firing now.
type KV interface {
	Get(ctx context.Context, key string) (string, bool, error)
}

// Command is !alerts: what fires now in this room's routes (in a direct
// chat, everywhere), oldest first; room admins mute and unmute here what
// the config's routes send.
func Command(st KV, scope *Scope, now func() time.Time) bot.Command {
	return bot.Command{
		Name: "alerts", Args: "[mute|unmute]", MaxArgs: 1, Summary: "what fires now, from Alertmanager",
		Help: "`alerts mute` stops the alerts the operator's routes send to this room, `alerts unmute` brings them " +
			"back (room admins).",
		AdminIf: say.Muting,
		Run: func(ctx context.Context, req bot.Request) (bot.Reply, error) {
			if len(req.Args) > 0 {
				return say.Mute(ctx, scope, req, Target, "the alerts", now())
			}
			all, err := FiringNow(ctx, st)
			if err != nil {
				return bot.Reply{}, fmt.Errorf("reading the alerts: %w", err)
			}
			var here []Firing
			for _, f := range all {
				if req.Direct || receives(scope, f.Rooms, req.RoomID) {
					here = append(here, f)
				}
			}
			if len(here) == 0 {
				return bot.TextReply("✓ Nothing fires."), nil
			}
			slices.SortFunc(here, func(a, b Firing) int { return a.Since.Compare(b.Since) })
			m := new(bot.Msg)
			for i, f := range here {
				if i > 0 {
					m.Line()
				}
				m.Text("🔥 ").Bold(f.Name)
				if f.Severity != "" {
					m.Text(" (" + f.Severity + ")")
				}
				m.Textf(": %s, firing since %s", say.Plural(f.Alerts, "alert"), say.Ago(now(), f.Since))
				if f.Summary != "" {
					m.Text(" — " + f.Summary)
				}
			}
			return m.Reply(), nil
		},
	}
}
