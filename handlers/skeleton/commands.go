package skeleton

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/roomscope"
)

// Command is the source's chat command: what this room follows, and, for
// room admins, follow and unfollow.
func Command(scope *Scope, now func() time.Time) bot.Command {
	c := &command{scope: scope, now: now}
	return bot.Command{
		Name: Kind, Args: "[follow|unfollow TARGET [WORDS...]]", MaxArgs: -1,
		Summary: "what this room follows of the feed",
		AdminIf: func(args []string) bool { return len(args) > 0 },
		Example: Kind + " follow status/fedora outage",
		Run:     c.run,
	}
}

type command struct {
	scope *Scope
	now   func() time.Time
}

func (c *command) run(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if len(req.Args) == 0 {
		return c.list(req), nil
	}
	verb := req.Args[0]
	if len(req.Args) < 2 || (verb != "follow" && verb != "unfollow") {
		return bot.TextReply("Usage: %s%s follow|unfollow TARGET [WORDS...]", req.Prefix, Kind), nil
	}
	target := strings.ToLower(req.Args[1])
	if verb == "unfollow" {
		if err := c.scope.Unsubscribe(ctx, req.RoomID, target); err != nil {
			return bot.Reply{}, fmt.Errorf("unfollowing %s: %w", target, err)
		}
		return bot.TextReply("This room no longer follows %s of its own.", target), nil
	}
	err := c.scope.Subscribe(ctx, roomscope.Choice[Filter]{Room: req.RoomID, Target: target,
		Filter: Filter{Words: req.Args[2:]}, By: req.Sender, At: c.now()})
	if err != nil {
		return bot.Reply{}, fmt.Errorf("following %s: %w", target, err)
	}
	return bot.TextReply("This room now follows %s.", target), nil
}

func (c *command) list(req bot.Request) bot.Reply {
	view := c.scope.InRoom(req.RoomID)
	if len(view.FromConfig) == 0 && len(view.Own) == 0 {
		return bot.TextReply("This room follows nothing of the feed.")
	}
	m := new(bot.Msg).Text("This room follows:")
	for _, r := range view.FromConfig {
		m.Line().Text("• " + strings.Join(r.Targets, ", ") + " (the config's)")
	}
	for _, o := range view.Own {
		m.Line().Text("• " + o.Target + " (its own)")
	}
	return m.Reply()
}
