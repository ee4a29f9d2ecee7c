package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/testenv"
)

// showMeeting holds a short meeting: the start is answered in words, the
// items with a reaction, and the end brings the minutes and the log.
func showMeeting(ctx context.Context, out io.Writer, human *testenv.User, room id.RoomID) error {
	fmt.Fprintln(out, "(a short public meeting)")
	if err := exchange(ctx, out, human, room, "!startmeeting Image Builder weekly"); err != nil {
		return err
	}
	for _, line := range []string{
		"!topic Releases",
		"!info osbuild-composer 121 is in production",
		"!action " + human.UserID.String() + " write the release notes",
		"!agreed the next release on Monday",
	} {
		if err := reactedTo(ctx, out, human, room, line); err != nil {
			return err
		}
	}
	if err := reactedTo(ctx, out, human, room, "!endmeeting"); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	minutes, err := human.WaitFor(wctx, func(e *event.Event) bool {
		return strings.HasPrefix(testenv.Body(e), "📝 Minutes: Image Builder weekly")
	})
	if err != nil {
		return fmt.Errorf("no minutes: %w", err)
	}
	fmt.Fprintf(out, "%s: %s\n", minutes.Sender.Localpart(), indentBody(minutes))
	log, err := human.WaitFor(wctx, func(e *event.Event) bool { return e.Content.AsMessage().MsgType == event.MsgFile })
	if err != nil {
		return fmt.Errorf("no log attached: %w", err)
	}
	fmt.Fprintf(out, "%s: [file %s, %d bytes]\n\n", log.Sender.Localpart(), testenv.Body(log), log.Content.AsMessage().Info.Size)
	return nil
}

// reactedTo says line and waits for the bot's reaction to it.
func reactedTo(ctx context.Context, out io.Writer, human *testenv.User, room id.RoomID, line string) error {
	evt, err := say(ctx, out, human, room, line)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r, err := human.WaitFor(wctx, func(e *event.Event) bool {
		if e.Type != event.EventReaction {
			return false
		}
		_ = e.Content.ParseRaw(e.Type)
		return e.Content.AsReaction().RelatesTo.EventID == evt
	})
	if err != nil {
		return fmt.Errorf("no reaction to %q: %w", line, err)
	}
	fmt.Fprintf(out, "  (%s reacts %s)\n", r.Sender.Localpart(), r.Content.AsReaction().RelatesTo.Key)
	return nil
}
