package say

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/roomscope"
)

// Mute answers "!CMD mute|unmute" for a source whose rooms only the
// config chooses (alerts, incidents): a room admin mutes here what the
// config sends of target, or lifts the mute. The mute is kept with the
// room's other choices, so it outlives restarts and moves with the room
// when it is upgraded. what names the things muted ("the alerts").
func Mute[F any](ctx context.Context, scope *roomscope.Scope[F], req bot.Request, target, what string, now time.Time) (bot.Reply, error) {
	cmd := req.Prefix + req.Command
	view := scope.InRoom(req.RoomID)
	switch verb := req.Args[0]; {
	case verb != "mute" && verb != "unmute":
		return bot.TextReply("usage: %s, or (room admins) %s mute|unmute", cmd, cmd), nil
	case req.Direct:
		return bot.TextReply("%s go to rooms: mute them in the room.", capital(what)), nil
	case !view.ConfigSends(target):
		return bot.TextReply("The operator's config sends %s to other rooms, not this one.", what), nil
	case verb == "mute" && view.Muted(target):
		return bot.TextReply("%s are already muted here; `%s unmute` brings them back.", capital(what), cmd), nil
	case verb == "unmute" && !view.Muted(target):
		return bot.TextReply("%s are not muted here.", capital(what)), nil
	case verb == "mute":
		if err := scope.Mute(ctx, roomscope.Choice[F]{Room: req.RoomID, Target: target, By: req.Sender, At: now}); err != nil {
			return bot.Reply{}, fmt.Errorf("muting %s: %w", what, err)
		}
		return bot.TextReply("%s muted %s in this room; `%s unmute` brings them back.", req.Sender, what, cmd), nil
	default:
		if err := scope.Unmute(ctx, req.RoomID, target); err != nil {
			return bot.Reply{}, fmt.Errorf("unmuting %s: %w", what, err)
		}
		return bot.TextReply("%s unmuted %s: this room gets them again.", req.Sender, what), nil
	}
}

// Muting says which invocations of a command with Mute need a room
// admin: mute and unmute; anything else is answered with the usage.
func Muting(args []string) bool {
	return len(args) > 0 && (args[0] == "mute" || args[0] == "unmute")
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
