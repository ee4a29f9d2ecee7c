package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/testenv"
)

const webhookSecret = "e2e-webhook-secret"

func sign(body []byte) string { return testenv.SignWebhook([]byte(webhookSecret), body) }

// delivery is a real fixture with the fields a test controls rewritten.
func delivery(_ testing.TB, file string, edit func(obj map[string]any)) []byte {
	return testenv.FreshDelivery(file, edit)
}

func issueObject(_ testing.TB, body []byte) json.RawMessage { return testenv.ItemOf(body) }

func postDelivery(t testing.TB, url, event, id string, body []byte, sig string) int {
	t.Helper()
	code, err := testenv.DeliverWebhook(context.Background(), http.DefaultClient, url, event, id, sig, body)
	if err != nil {
		t.Fatalf("posting %s: %v", id, err)
	}
	return code
}

func numbered(n int, title string) func(map[string]any) {
	return func(o map[string]any) {
		o["number"] = n
		o["title"] = title
		o["html_url"] = fmt.Sprintf("https://github.com/Codertocat/Hello-World/issues/%d", n)
	}
}

func aboutItem(ref string) func(*event.Event) bool {
	return func(e *event.Event) bool {
		return isNotice(e) && strings.Contains(testenv.Body(e), ref+" ")
	}
}

func githubConfig(s *stack, port int, room2 id.RoomID) *config.Config {
	cfg := s.config(s.hs.URL)
	cfg.HTTP.Listen = fmt.Sprintf("127.0.0.1:%d", port)
	g := &cfg.GitHub
	g.Webhook = config.Webhook{Path: "/github/webhook", Secret: config.NewSecret(webhookSecret)}
	g.AggregationWindow = 200 * time.Millisecond
	g.DigestInterval = 500 * time.Millisecond
	g.PollInterval = 200 * time.Millisecond
	g.Subscriptions = []config.Subscription{
		{Rooms: []string{s.room.String()}, Repos: []string{"Codertocat/Hello-World"}, Events: []config.Event{config.EventIssues, config.EventPulls},
			Labels: config.Filter{Exclude: []string{"wontfix"}}, Authors: config.Filter{Exclude: []string{"mallory"}}},
		{Rooms: []string{room2.String()}, Repos: []string{"codertocat/*"}, Events: []config.Event{config.EventIssues},
			Labels: config.Filter{Include: []string{"good first issue"}}},
	}
	return cfg
}

// TestGitHubRelayEndToEnd: deliveries signed like GitHub's reach the room
// once, whatever is repeated; forged ones are refused; a merge edits the
// message; filters hold; a label added later announces the item then.
func TestGitHubRelayEndToEnd(t *testing.T) {
	s := newStack(t)
	room2, err := s.human.CreateRoom(context.Background(), "newcomers", s.botUser.UserID)
	if err != nil {
		t.Fatal(err)
	}
	port := freeTCPPort(t)
	cfg := githubConfig(s, port, room2)
	cfg.Matrix.Rooms = append(cfg.Matrix.Rooms, room2.String())
	startBot(t, cfg)
	hook := fmt.Sprintf("http://127.0.0.1:%d/github/webhook", port)

	// A new issue, delivered twice under one id, once more under another,
	// and also listed by the API the poller reads.
	opened := delivery(t, "issues.opened.payload.json", numbered(101, "Builds fail on aarch64"))
	s.github.SetIssues("Codertocat/Hello-World", issueObject(t, opened))
	for i, id := range []string{"d-101", "d-101", "d-101-again"} {
		want := []int{http.StatusAccepted, http.StatusOK, http.StatusAccepted}[i]
		if got := postDelivery(t, hook, "issues", id, opened, sign(opened)); got != want {
			t.Errorf("delivery %d (%s): %d, want %d", i, id, got, want)
		}
	}
	forged := delivery(t, "issues.opened.payload.json", numbered(666, "forged"))
	if got := postDelivery(t, hook, "issues", "d-666", forged, "sha256="+strings.Repeat("0", 64)); got != http.StatusUnauthorized {
		t.Errorf("forged delivery: %d, want 401", got)
	}
	s.human.MustWait(t, wait, "issue 101", aboutItem("Codertocat/Hello-World#101"))

	// A pull request, then its merge: one message, edited, plus a thread line.
	pr := delivery(t, "pull_request.opened.payload.json", numbered(102, "Add aarch64 runner"))
	postDelivery(t, hook, "pull_request", "d-102", pr, sign(pr))
	root := s.human.MustWait(t, wait, "PR 102", aboutItem("Codertocat/Hello-World#102"))
	merged := delivery(t, "pull_request.closed.payload.json", func(o map[string]any) {
		numbered(102, "Add aarch64 runner")(o)
		o["merged"], o["merged_at"], o["state"] = true, time.Now().UTC().Format(time.RFC3339), "closed"
	})
	postDelivery(t, hook, "pull_request", "d-102-merged", merged, sign(merged))
	edit := s.human.MustWait(t, wait, "the edit on merge", func(e *event.Event) bool {
		rel := e.Content.AsMessage().RelatesTo
		return rel != nil && rel.Type == event.RelReplace && rel.EventID == root.ID
	})
	if nc := edit.Content.AsMessage().NewContent; nc == nil || !strings.Contains(nc.Body, "merged") {
		t.Errorf("edit does not show the merge: %+v", edit.Content.AsMessage())
	}
	s.human.MustWait(t, wait, "the merge line in the thread", func(e *event.Event) bool {
		rel := e.Content.AsMessage().RelatesTo
		return rel != nil && rel.Type == event.RelThread && rel.EventID == root.ID && strings.HasPrefix(testenv.Body(e), "Merged")
	})

	// Filtered out: an excluded label, an excluded author. A bot's PR goes
	// to the digest.
	wontfix := delivery(t, "issues.opened.payload.json", func(o map[string]any) {
		numbered(103, "Please add Windows")(o)
		o["labels"] = []any{map[string]any{"name": "wontfix"}}
	})
	postDelivery(t, hook, "issues", "d-103", wontfix, sign(wontfix))
	byMallory := delivery(t, "issues.opened.payload.json", func(o map[string]any) {
		numbered(105, "spam")(o)
		o["user"].(map[string]any)["login"] = "mallory"
	})
	postDelivery(t, hook, "issues", "d-105", byMallory, sign(byMallory))
	bump := delivery(t, "pull_request.opened.payload.json", func(o map[string]any) {
		numbered(106, "Bump golang.org/x/net")(o)
		o["user"].(map[string]any)["login"], o["user"].(map[string]any)["type"] = "dependabot[bot]", "Bot"
	})
	postDelivery(t, hook, "pull_request", "d-106", bump, sign(bump))
	s.human.MustWait(t, wait, "the bot digest", func(e *event.Event) bool {
		return isNotice(e) && strings.HasPrefix(testenv.Body(e), "1 dependency update in Codertocat/Hello-World")
	})

	// Labelled later: room2 only wants "good first issue".
	plain := delivery(t, "issues.opened.payload.json", func(o map[string]any) {
		numbered(104, "Document the CLI")(o)
		o["labels"] = []any{}
	})
	postDelivery(t, hook, "issues", "d-104", plain, sign(plain))
	s.human.MustWait(t, wait, "issue 104 in the main room", aboutItem("Codertocat/Hello-World#104"))
	labelled := delivery(t, "issues.labeled.payload.json", func(o map[string]any) {
		numbered(104, "Document the CLI")(o)
		o["labels"] = []any{map[string]any{"name": "good first issue"}}
	})
	postDelivery(t, hook, "issues", "d-104-labeled", labelled, sign(labelled))
	s.human.MustWait(t, wait, "issue 104 in the newcomers room once labelled", func(e *event.Event) bool {
		return e.RoomID == room2 && aboutItem("Codertocat/Hello-World#104")(e)
	})

	s.settle(t)
	count := func(ref string) int {
		return s.human.Count(func(e *event.Event) bool {
			return e.RoomID == s.room && aboutItem(ref)(e) && e.Content.AsMessage().RelatesTo == nil
		})
	}
	for ref, want := range map[string]int{"#101": 1, "#102": 1, "#103": 0, "#105": 0, "#106": 0, "#666": 0} {
		if got := count("Codertocat/Hello-World" + ref); got != want {
			t.Errorf("%s posted %d times in the room, want %d", ref, got, want)
		}
	}
}
