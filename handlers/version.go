package handlers

import (
	"context"
	"strconv"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/buildinfo"
)

// Version tells which build is running and for how long.
func Version(info buildinfo.Info, started time.Time, now func() time.Time) bot.Command {
	return bot.Command{
		Name: "version", Summary: "show the bot's version, commit and uptime",
		Run: func(context.Context, bot.Request) (bot.Reply, error) {
			return new(bot.Msg).Text("ibbot ").Bold(info.Version).
				Text(", commit ").Code(info.Commit).
				Textf(", %s, up %s", info.GoVersion, formatUptime(now().Sub(started))).Reply(), nil
		},
	}
}

// formatUptime shows the two largest units, the second only when it is not
// zero: "3d 4h", "2d", "5h 12m", "21h", "42s".
func formatUptime(d time.Duration) string {
	d = d.Round(time.Second)
	days := int(d / (24 * time.Hour))
	h := int(d/time.Hour) % 24
	m := int(d/time.Minute) % 60
	s := int(d/time.Second) % 60
	switch {
	case days > 0:
		return units(days, "d", h, "h")
	case h > 0:
		return units(h, "h", m, "m")
	case m > 0:
		return units(m, "m", s, "s")
	default:
		return strconv.Itoa(s) + "s"
	}
}

func units(big int, bigUnit string, small int, smallUnit string) string {
	if small == 0 {
		return strconv.Itoa(big) + bigUnit
	}
	return strconv.Itoa(big) + bigUnit + " " + strconv.Itoa(small) + smallUnit
}

func trimFloat(f float64, decimals int) string {
	return strconv.FormatFloat(f, 'f', decimals, 64)
}
