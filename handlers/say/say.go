// Package say holds the words the commands share: how long ago, how many,
// which commit, which component was meant, a search's answers, a room's
// mute of a source. Every source's commands and the general ones say
// these things the same way.
package say

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/catalog"
)

// Ago says how long before now t was, the way people say it.
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return Plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return Plural(int(d/time.Hour), "hour") + " ago"
	case d < 60*24*time.Hour:
		return Plural(int(d/(24*time.Hour)), "day") + " ago"
	case d < 2*365*24*time.Hour:
		return Plural(int(d/(30*24*time.Hour)), "month") + " ago"
	default:
		return Plural(int(d/(365*24*time.Hour)), "year") + " ago"
	}
}

// Plural is "1 commit", "3 commits".
func Plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// Day is t's date in UTC.
func Day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// Short is a commit's short sha, as GitHub shows it.
func Short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// Uptime shows the two largest units, the second only when it is not
// zero: "3d 4h", "2d", "5h 12m", "21h", "42s".
func Uptime(d time.Duration) string {
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

// UnknownComponent answers a command given a component name the catalog
// does not know: the likeliest one meant, or the known ones.
func UnknownComponent(cat *catalog.Catalog, req bot.Request, name string) bot.Reply {
	m := new(bot.Msg).Text("I know no component ").Code(name)
	if best := cat.Suggest(name); best != "" {
		m.Text(": did you mean ").Code(req.Prefix + req.Command + " " + best).Text("?")
	} else {
		m.Textf(". Known: %s.", strings.Join(ServiceNames(cat), ", "))
	}
	return m.Reply()
}

// ServiceNames are the ids of the catalog's components.
func ServiceNames(cat *catalog.Catalog) []string {
	var names []string
	for _, c := range cat.Components {
		names = append(names, c.ID)
	}
	return names
}

// In says how long after now t is, the way people say it: "in 10
// minutes"; "now" for what has begun.
func In(now, t time.Time) string {
	d := t.Sub(now)
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		return "in " + Plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return "in " + Plural(int(d/time.Hour), "hour")
	default:
		return "in " + Plural(int(d/(24*time.Hour)), "day")
	}
}
