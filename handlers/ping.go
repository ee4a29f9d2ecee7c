package handlers

import (
	"context"
	"time"

	"github.com/osbuild/ibbot/bot"
)

// Ping answers pong with the time the bot spent on the command, from
// taking it off the sync to building this answer.
func Ping(now func() time.Time) bot.Command {
	return bot.Command{
		Name: "ping", Summary: "check that the bot is alive and how fast it answers",
		Run: func(_ context.Context, req bot.Request) (bot.Reply, error) {
			took := now().Sub(req.Received)
			return bot.TextReply("pong (processed in %s)", formatDuration(took)), nil
		},
	}
}

// formatDuration rounds to what a person wants to read: "0.4 ms", "12 ms", "3.2 s".
func formatDuration(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return trimFloat(float64(d)/float64(time.Millisecond), 1) + " ms"
	case d < time.Second:
		return trimFloat(float64(d)/float64(time.Millisecond), 0) + " ms"
	case d < time.Minute:
		return trimFloat(d.Seconds(), 1) + " s"
	default:
		return d.Round(time.Second).String()
	}
}
