package handlers

import (
	"context"
	"strconv"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/handlers/say"
	"github.com/osbuild/ibbot/internal/buildinfo"
)

// Version tells which build is running and for how long.
func Version(info buildinfo.Info, started time.Time, now func() time.Time) bot.Command {
	return bot.Command{
		Name: "version", Summary: "show the bot's version, commit and uptime",
		Run: func(context.Context, bot.Request) (bot.Reply, error) {
			return new(bot.Msg).Text("ibbot ").Bold(info.Version).
				Text(", commit ").Code(info.Commit).
				Textf(", %s, up %s", info.GoVersion, say.Uptime(now().Sub(started))).Reply(), nil
		},
	}
}

func trimFloat(f float64, decimals int) string {
	return strconv.FormatFloat(f, 'f', decimals, 64)
}
