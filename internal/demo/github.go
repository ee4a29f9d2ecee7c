package demo

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/testenv"
)

const demoWebhookSecret = "demo-webhook-secret"

// showGitHub replays real webhook deliveries (signed as GitHub signs
// them): an issue, a pull request and its merge (an edit), two bot pull
// requests (a digest), then a message with an issue link.
func showGitHub(ctx context.Context, out io.Writer, human *testenv.User, room id.RoomID, world *World, hook string) error {
	fmt.Fprintln(out, "\n(GitHub delivers webhooks: an issue, a pull request, its merge, two dependabot PRs)")
	const issueTitle, prTitle = "Image type list hides WSL on aarch64", "Wizard: offer WSL for aarch64"
	issue := sentBy(imageBuilderDelivery("issues.opened.payload.json", 2980, issueTitle, "ana-silva", nil), "ana-silva")
	pr := sentBy(imageBuilderDelivery("pull_request.opened.payload.json", 2981, prTitle, "luis-ortega", nil), "luis-ortega")
	world.Open(demoRepo, 2980, issueTitle, "ana-silva", false)
	world.Open(demoRepo, 2981, prTitle, "luis-ortega", true)
	mergedAt := time.Now()
	merged := sentBy(imageBuilderDelivery("pull_request.closed.payload.json", 2981, prTitle, "luis-ortega", func(o map[string]any) {
		o["merged"], o["merged_at"] = true, mergedAt.UTC().Format(time.RFC3339)
		o["merged_by"] = map[string]any{"login": "mei-tanaka", "type": "User"}
		o["merge_commit_sha"] = world.Merge(demoRepo, 2981, "mei-tanaka", mergedAt)
	}), "mei-tanaka")
	steps := []struct {
		event, id string
		body      []byte
		show      func(*event.Event) bool
	}{
		{"issues", "demo-1", issue, rootOf(demoRepo + "#2980 ")},
		{"pull_request", "demo-2", pr, rootOf(demoRepo + "#2981 ")},
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
	for i, n := range []int{2990, 2991} {
		title := fmt.Sprintf("build(deps): bump @patternfly/react-core from 6.%d.0 to 6.%d.0", 1+i, 2+i)
		world.Open(demoRepo, n, title, "dependabot[bot]", true)
		bump := sentBy(imageBuilderDelivery("pull_request.opened.payload.json", n, title, "dependabot[bot]", func(o map[string]any) {
			o["user"].(map[string]any)["type"] = "Bot"
		}), "dependabot[bot]")
		if err := deliver(ctx, hook, "pull_request", fmt.Sprintf("demo-bump-%d", n), bump); err != nil {
			return err
		}
	}
	if err := printDigests(ctx, out, human, "#2990", "#2991"); err != nil {
		return err
	}
	fmt.Fprintln(out)
	return exchange(ctx, out, human, room, "the bug in #2980 again?")
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

// showRoomSubscriptions: the room's admin subscribes the room to CI of
// osbuild/image-builder in chat; a run fails on main (announced once), then
// passes (fixed); the admin unsubscribes.
func showRoomSubscriptions(ctx context.Context, out io.Writer, human *testenv.User, room id.RoomID, hook string) error {
	fmt.Fprintln(out, "\n(the room's admin subscribes the room to CI of another repository, in chat)")
	if err := exchange(ctx, out, human, room, "!gh subscribe osbuild/image-builder ci"); err != nil {
		return err
	}
	fmt.Fprintln(out, "(GitHub delivers two finished workflow runs on main: a failure, then a success)")
	for i, conclusion := range []string{"failure", "success"} {
		if err := deliver(ctx, hook, "workflow_run", fmt.Sprintf("demo-ci-%d", i), workflowRunDelivery(4100+i, conclusion)); err != nil {
			return err
		}
		prefix := map[string]string{"failure": "✗ CI:", "success": "✓ CI fixed:"}[conclusion]
		if err := printNext(ctx, out, human, func(e *event.Event) bool { return strings.HasPrefix(testenv.Body(e), prefix) }); err != nil {
			return err
		}
	}
	fmt.Fprintln(out)
	for _, line := range []string{"!gh subscriptions", "!gh unsubscribe osbuild/image-builder"} {
		if err := exchange(ctx, out, human, room, line); err != nil {
			return err
		}
	}
	return nil
}

// workflowRunDelivery is the recorded workflow_run delivery moved to
// osbuild/image-builder' main branch, with the run's number and outcome set.
func workflowRunDelivery(run int, conclusion string) []byte {
	var m map[string]any
	if err := json.Unmarshal(fixtures.Read("github/webhooks/workflow_run.completed.payload.json"), &m); err != nil {
		panic(err) // the fixtures are ours
	}
	repo := m["repository"].(map[string]any)
	repo["full_name"], repo["name"], repo["default_branch"] = "osbuild/image-builder", "image-builder", "main"
	repo["owner"].(map[string]any)["login"] = "osbuild"
	repo["html_url"] = "https://github.com/osbuild/image-builder"
	m["workflow"].(map[string]any)["name"] = "Tests"
	m["sender"].(map[string]any)["login"] = "ondrej-novak"
	r := m["workflow_run"].(map[string]any)
	r["id"], r["run_number"], r["conclusion"], r["head_branch"] = run, run, conclusion, "main"
	r["html_url"] = fmt.Sprintf("https://github.com/osbuild/image-builder/actions/runs/%d", run)
	r["head_sha"] = fmt.Sprintf("%x", sha1.Sum([]byte(fmt.Sprint(run))))
	body, _ := json.Marshal(m)
	return body
}
