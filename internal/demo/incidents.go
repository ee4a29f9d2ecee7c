package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/osbuild/ibbot/internal/testenv"
)

// startStatuspage runs the demo's Statuspage page (a stand-in of
// status.redhat.com's v2 API) with a past incident, resolved.
func startStatuspage() *testenv.Statuspage {
	page := testenv.NewStatuspage(nil, "Image Builder", "Insights")
	old := page.Open("Image exports to AWS delayed", "minor", "Exports to AWS take longer than usual.", "Image Builder")
	page.Update(old, "resolved", "Exports are back to normal.")
	return page
}

// showIncident opens an incident on the status page and identifies its
// cause; the room gets one message, and the update in its thread.
func showIncident(ctx context.Context, out io.Writer, human *testenv.User, page *testenv.Statuspage) error {
	fmt.Fprintln(out, "(the status page reports an incident of Image Builder)")
	id := page.Open("Image builds fail for some image types", "major", "Builds of ami and vhd images fail; we are looking into it.", "Image Builder")
	if err := relayed(ctx, out, human, "", func(body string) bool { return strings.HasPrefix(body, "🟠 Incident: Image builds fail") }); err != nil {
		return err
	}
	page.Update(id, "identified", "A configuration change broke cloud uploads; it is being reverted.")
	return relayed(ctx, out, human, "(in its thread) ", func(body string) bool { return strings.HasPrefix(body, "Identified: A configuration change") })
}

// relayed waits for the bot's message that matches, and prints it.
func relayed(ctx context.Context, out io.Writer, human *testenv.User, label string, match func(string) bool) error {
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	msg, err := human.WaitFor(wctx, func(e *event.Event) bool { return e.Sender != human.UserID && match(testenv.Body(e)) })
	if err != nil {
		return fmt.Errorf("no incident message: %w", err)
	}
	fmt.Fprintf(out, "%s%s: %s\n\n", label, msg.Sender.Localpart(), indentBody(msg))
	return nil
}
