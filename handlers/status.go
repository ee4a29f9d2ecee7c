package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/handlers/say"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/store"
)

// StatusSource reports the bot's internal state for admins.
type StatusSource interface {
	PendingCount(ctx context.Context) (int, error)
	Failed(ctx context.Context, limit int) ([]store.Outgoing, error)
}

// Status shows room admins how the bot is doing: uptime, the outgoing
// queue, and each long-running part (the mail watcher, the GitHub poller):
// what it does and when it last did it, or what is wrong and since when.
func Status(src StatusSource, parts *health.Board, started time.Time, now func() time.Time) bot.Command {
	return bot.Command{
		Name: "status", Summary: "show the bot's health: uptime, outgoing queue, mail and GitHub", Admin: true,
		Run: func(ctx context.Context, req bot.Request) (bot.Reply, error) {
			pending, err := src.PendingCount(ctx)
			if err != nil {
				return bot.Reply{}, fmt.Errorf("reading the queue depth: %w", err)
			}
			t := now()
			msg := new(bot.Msg).Textf("up %s; %s waiting to be sent", say.Uptime(t.Sub(started)), say.Plural(pending, "message"))
			for _, r := range parts.Reports() {
				msg.Line().Text(healthLine(r, t))
			}
			failed, err := src.Failed(ctx, maxFailedShown)
			if err != nil {
				return bot.Reply{}, fmt.Errorf("reading undeliverable messages: %w", err)
			}
			for i, m := range failed {
				if i == 0 {
					msg.Line().Text("Undeliverable (refused by the homeserver for good):")
				}
				msg.Line().Textf("• queued %s for %s: %s (key %s)", m.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), m.RoomID, m.LastError, m.Key)
			}
			return msg.Reply(), nil
		},
	}
}

// maxFailedShown bounds the undeliverable messages !status lists.
const maxFailedShown = 5

// healthLine is one part's state in a line:
// "✓ mail: watching INBOX on imap.example.org:993 (checked 12s ago)" or
// "✗ mail: failing for 5m 3s: connection refused".
func healthLine(r health.Report, now time.Time) string {
	if r.OK && r.NotAllowed { // a room's setting, not a fault
		return fmt.Sprintf("– %s: %s", r.Part, r.Detail)
	}
	if !r.OK && r.Since.IsZero() { // has not run yet
		return fmt.Sprintf("… %s: %s", r.Part, r.Detail)
	}
	if !r.OK {
		line := fmt.Sprintf("✗ %s: failing for %s: %s", r.Part, say.Uptime(now.Sub(r.Since)), r.Detail)
		if !r.Last.IsZero() {
			line += fmt.Sprintf(" (last worked %s)", sinceShort(now, r.Last))
		}
		return line
	}
	if r.Last.IsZero() { // working, but has not had anything to do yet
		return fmt.Sprintf("✓ %s: %s", r.Part, r.Detail)
	}
	return fmt.Sprintf("✓ %s: %s (checked %s)", r.Part, r.Detail, sinceShort(now, r.Last))
}

// sinceShort is "12s ago", "5m 3s ago", or "just now" within a second.
func sinceShort(now, t time.Time) string {
	if now.Sub(t) < time.Second {
		return "just now"
	}
	return say.Uptime(now.Sub(t)) + " ago"
}
