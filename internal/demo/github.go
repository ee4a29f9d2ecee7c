package demo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/testenv"
)

const demoWebhookSecret = "demo-webhook-secret"

// showGitHub replays real webhook deliveries (signed as GitHub signs
// them): an issue, a pull request and its merge (an edit), two bot pull
// requests (a digest), then a message with an issue link.
func showGitHub(ctx context.Context, out io.Writer, human *testenv.User, room id.RoomID, gh *testenv.GitHub, hook string) error {
	fmt.Fprintln(out, "\n(GitHub delivers webhooks: an issue, a pull request, its merge, two dependabot PRs)")
	issue := testenv.FreshDelivery("issues.opened.payload.json", nil)
	pr := testenv.FreshDelivery("pull_request.opened.payload.json", nil)
	merged := testenv.FreshDelivery("pull_request.closed.payload.json", func(o map[string]any) {
		o["merged"], o["merged_at"] = true, time.Now().UTC().Format(time.RFC3339)
	})
	gh.SetIssues("Codertocat/Hello-World", testenv.ItemOf(issue))
	steps := []struct {
		event, id string
		body      []byte
		show      func(*event.Event) bool
	}{
		{"issues", "demo-1", issue, rootOf("Codertocat/Hello-World#1 ")},
		{"pull_request", "demo-2", pr, rootOf("Codertocat/Hello-World#2 ")},
		{"pull_request", "demo-3", merged, func(e *event.Event) bool {
			rel := e.Content.AsMessage().RelatesTo
			return rel != nil && rel.Type == event.RelReplace
		}},
	}
	for _, s := range steps {
		if err := deliver(ctx, hook, s.event, s.id, s.body); err != nil {
			return err
		}
		if err := printNext(ctx, out, human, s.show); err != nil {
			return err
		}
	}
	for i, n := range []int{31, 32} {
		bump := testenv.FreshDelivery("pull_request.opened.payload.json", func(o map[string]any) {
			o["number"], o["title"] = n, fmt.Sprintf("build(deps): bump golang.org/x/net from 0.%d.0 to 0.%d.0", 40+i, 41+i)
			o["html_url"] = fmt.Sprintf("https://github.com/Codertocat/Hello-World/pull/%d", n)
			o["user"].(map[string]any)["login"], o["user"].(map[string]any)["type"] = "dependabot[bot]", "Bot"
		})
		if err := deliver(ctx, hook, "pull_request", fmt.Sprintf("demo-bump-%d", n), bump); err != nil {
			return err
		}
	}
	if err := printDigests(ctx, out, human, "#31", "#32"); err != nil {
		return err
	}
	fmt.Fprintln(out)
	return exchange(ctx, out, human, room, "the bug in #1 again?")
}

func deliver(ctx context.Context, hook, ev, deliveryID string, body []byte) error {
	code, err := testenv.DeliverWebhook(ctx, http.DefaultClient, hook, ev, deliveryID,
		testenv.SignWebhook([]byte(demoWebhookSecret), body), body)
	if err != nil {
		return err
	}
	if code/100 != 2 {
		return fmt.Errorf("webhook answered %d", code)
	}
	return nil
}

func rootOf(ref string) func(*event.Event) bool {
	return func(e *event.Event) bool {
		return strings.HasPrefix(testenv.Body(e), ref) && e.Content.AsMessage().RelatesTo == nil
	}
}

// printDigests prints digest messages until every one of prs has been
// listed: usually one digest, but the flush can fall between two bot pull
// requests that arrived together, and then each gets its own.
func printDigests(ctx context.Context, out io.Writer, human *testenv.User, prs ...string) error {
	printed := map[id.EventID]bool{}
	missing := func() bool {
		for _, pr := range prs {
			listed := false
			for _, e := range human.Events() {
				listed = listed || (printed[e.ID] && strings.Contains(testenv.Body(e), pr))
			}
			if !listed {
				return true
			}
		}
		return false
	}
	for missing() {
		err := printNext(ctx, out, human, func(e *event.Event) bool {
			if printed[e.ID] || !strings.Contains(testenv.Body(e), "dependency update") {
				return false
			}
			printed[e.ID] = true
			return true
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func printNext(ctx context.Context, out io.Writer, human *testenv.User, match func(*event.Event) bool) error {
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	e, err := human.WaitFor(wctx, match)
	if err != nil {
		return err
	}
	label := ""
	if rel := e.Content.AsMessage().RelatesTo; rel != nil && rel.Type == event.RelReplace {
		label = "(edits its message) "
		if nc := e.Content.AsMessage().NewContent; nc != nil {
			fmt.Fprintf(out, "%s: %s%s\n", e.Sender.Localpart(), label, nc.Body)
			return nil
		}
	}
	fmt.Fprintf(out, "%s: %s%s\n", e.Sender.Localpart(), label, indentBody(e))
	return nil
}
