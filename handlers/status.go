package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/osbuild/ibbot/bot"
)

// StatusSource reports the bot's internal state for admins.
type StatusSource interface {
	PendingCount(ctx context.Context) (int, error)
}

// Status shows room admins how the bot is doing: uptime and the outgoing
// queue.
func Status(src StatusSource, started time.Time, now func() time.Time) bot.Command {
	return bot.Command{
		Name: "status", Summary: "show the bot's health: uptime and outgoing queue", Admin: true,
		Run: func(ctx context.Context, req bot.Request) (bot.Reply, error) {
			pending, err := src.PendingCount(ctx)
			if err != nil {
				return bot.Reply{}, fmt.Errorf("reading the queue depth: %w", err)
			}
			return bot.TextReply("up %s; %d message(s) waiting to be sent", formatUptime(now().Sub(started)), pending), nil
		},
	}
}
