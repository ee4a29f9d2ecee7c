package github

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/testenv"
)

type relayEnv struct {
	relay *Relay
	rec   *testenv.Recorder
	store *store.DB
	now   time.Time
	n     int
}

func newRelayEnv(t *testing.T, subs ...config.Subscription) *relayEnv {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "gh.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &relayEnv{rec: &testenv.Recorder{}, store: st, now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	cfg := config.Defaults().GitHub
	cfg.Subscriptions = subs
	cfg.AggregationWindow = 5 * time.Second
	rules, settings := newSubs(t, subs, st, nil, cfg.Rooms)
	e.relay = NewRelay(RelayOptions{Store: st, Poster: e.rec, Config: cfg, Subs: rules, Settings: settings, Now: func() time.Time { return e.now }, Log: zerolog.Nop()})
	return e
}

// payload loads a fixture and applies edits to its JSON.
func payload(t *testing.T, name string, edit func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(fixtures.Read("github/webhooks/"+name), &m); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	b, _ := json.Marshal(m)
	return b
}

// deliver stores and processes a delivery as the webhook and the relay do.
func (e *relayEnv) deliver(t *testing.T, event string, body []byte) {
	t.Helper()
	e.n++
	if _, err := e.store.SaveDelivery(context.Background(), store.Delivery{ID: fmt.Sprintf("d-%d", e.n), Event: event, Payload: body}, e.now); err != nil {
		t.Fatal(err)
	}
	if err := e.relay.step(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// wait moves the clock past the aggregation window and lets the relay act.
func (e *relayEnv) wait(t *testing.T) {
	t.Helper()
	e.now = e.now.Add(6 * time.Second)
	if err := e.relay.step(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func sub(edit func(*config.Subscription)) config.Subscription {
	s := config.Subscription{Rooms: []string{"!room:x"}, Repos: []string{"Codertocat/*"}, Events: config.DefaultEvents}
	if edit != nil {
		edit(&s)
	}
	return s
}

func withLabels(obj string, labels ...string) func(map[string]any) {
	return func(m map[string]any) {
		var ls []any
		for _, l := range labels {
			ls = append(ls, map[string]any{"name": l})
		}
		m[obj].(map[string]any)["labels"] = ls
	}
}

func roots(msgs []testenv.Sent) []testenv.Sent {
	var out []testenv.Sent
	for _, m := range msgs {
		if strings.HasPrefix(m.Key, "gh:root:") {
			out = append(out, m)
		}
	}
	return out
}

func TestOpenedIsAnnouncedOnceAfterTheWindow(t *testing.T) {
	e := newRelayEnv(t, sub(nil))
	body := payload(t, "issues.opened.payload.json", nil)
	e.deliver(t, "issues", body)
	if n := len(e.rec.All()); n != 0 {
		t.Fatalf("%d messages inside the aggregation window, want 0", n)
	}
	e.deliver(t, "issues", body) // GitHub redelivered under a new id, or the poller saw it
	e.wait(t)
	e.deliver(t, "issues", body)
	if got := roots(e.rec.All()); len(got) != 1 || !strings.Contains(got[0].Plain, "Codertocat/Hello-World#1") {
		t.Fatalf("roots = %+v, want exactly one", got)
	}
}

func TestMergeEditsTheMessageAndAddsAThreadLine(t *testing.T) {
	e := newRelayEnv(t, sub(nil))
	e.deliver(t, "pull_request", payload(t, "pull_request.opened.payload.json", nil))
	e.wait(t)
	merged := payload(t, "pull_request.closed.payload.json", func(m map[string]any) {
		m["pull_request"].(map[string]any)["merged"] = true
		m["pull_request"].(map[string]any)["merged_at"] = "2026-01-01T12:00:07Z"
	})
	e.deliver(t, "pull_request", merged)
	e.deliver(t, "pull_request", merged)
	msgs := e.rec.All()
	if len(msgs) != 3 {
		t.Fatalf("messages %+v, want root, edit, thread line", msgs)
	}
	root, edit, line := msgs[0], msgs[1], msgs[2]
	if edit.Rel != "edit" || edit.Target != root.Key || !strings.Contains(edit.Plain, "merged") {
		t.Errorf("edit = %+v", edit)
	}
	if line.Rel != "thread" || line.Target != root.Key || line.Plain != "Merged by Codertocat" {
		t.Errorf("thread line = %+v", line)
	}
}

func TestFilters(t *testing.T) {
	cases := []struct {
		name   string
		rule   func(*config.Subscription)
		event  string
		file   string
		edit   func(map[string]any)
		wantIn bool
	}{
		{"plain issue", nil, "issues", "issues.opened.payload.json", nil, true},
		{"excluded label", func(s *config.Subscription) { s.Labels.Exclude = []string{"BUG"} }, "issues", "issues.opened.payload.json", nil, false},
		{"included label missing", func(s *config.Subscription) { s.Labels.Include = []string{"good first issue"} }, "issues", "issues.opened.payload.json", nil, false},
		{"excluded author", func(s *config.Subscription) { s.Authors.Exclude = []string{"codertocat"} }, "issues", "issues.opened.payload.json", nil, false},
		{"other repo", func(s *config.Subscription) { s.Repos = []string{"osbuild/*"} }, "issues", "issues.opened.payload.json", nil, false},
		{"pulls not subscribed", func(s *config.Subscription) { s.Events = []config.Event{config.EventIssues} }, "pull_request", "pull_request.opened.payload.json", nil, false},
		{"bot PR hidden", func(s *config.Subscription) { s.Bots = "hide" }, "pull_request", "pull_request.opened.payload.json", botAuthor, false},
		{"bot PR shown", func(s *config.Subscription) { s.Bots = "show" }, "pull_request", "pull_request.opened.payload.json", botAuthor, true},
		{"draft hidden", nil, "pull_request", "pull_request.opened.payload.json", draft, false},
		{"draft shown", func(s *config.Subscription) { s.Drafts = "show" }, "pull_request", "pull_request.opened.payload.json", draft, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newRelayEnv(t, sub(c.rule))
			e.deliver(t, c.event, payload(t, c.file, c.edit))
			e.wait(t)
			if got := len(roots(e.rec.All())) == 1; got != c.wantIn {
				t.Errorf("announced = %v, want %v (%+v)", got, c.wantIn, e.rec.All())
			}
		})
	}
}

func botAuthor(m map[string]any) {
	u := m["pull_request"].(map[string]any)["user"].(map[string]any)
	u["login"], u["type"] = "dependabot[bot]", "Bot"
}

func draft(m map[string]any) { m["pull_request"].(map[string]any)["draft"] = true }

func TestBotPullRequestsGoToADigest(t *testing.T) {
	e := newRelayEnv(t, sub(nil))
	for n := 10; n < 13; n++ {
		e.deliver(t, "pull_request", payload(t, "pull_request.opened.payload.json", func(m map[string]any) {
			botAuthor(m)
			pr := m["pull_request"].(map[string]any)
			pr["number"], pr["title"] = n, fmt.Sprintf("Bump dep %d", n)
		}))
	}
	e.wait(t)
	if n := len(e.rec.All()); n != 0 {
		t.Fatalf("bot PRs posted one by one: %+v", e.rec.All())
	}
	e.now = e.now.Add(time.Hour)
	e.relay.step(context.Background())
	msgs := e.rec.All()
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0].Plain, "3 dependency updates in Codertocat/Hello-World") {
		t.Fatalf("digest = %+v", msgs)
	}
	e.now = e.now.Add(time.Hour)
	e.relay.step(context.Background())
	if n := len(e.rec.All()); n != 1 {
		t.Errorf("the digest was repeated: %+v", e.rec.All())
	}
}

func TestLabelAddedLaterAnnouncesThen(t *testing.T) {
	e := newRelayEnv(t, sub(func(s *config.Subscription) { s.Labels.Include = []string{"good first issue"} }))
	e.deliver(t, "issues", payload(t, "issues.opened.payload.json", withLabels("issue")))
	e.wait(t)
	if n := len(e.rec.All()); n != 0 {
		t.Fatalf("unlabelled issue announced: %+v", e.rec.All())
	}
	e.deliver(t, "issues", payload(t, "issues.labeled.payload.json", withLabels("issue", "good first issue")))
	if got := roots(e.rec.All()); len(got) != 1 || !strings.Contains(got[0].Plain, "good first issue") {
		t.Fatalf("after the label: %+v", e.rec.All())
	}
}

func TestLabelsAddedInsideTheWindowCount(t *testing.T) {
	e := newRelayEnv(t, sub(func(s *config.Subscription) { s.Labels.Exclude = []string{"dependencies"} }))
	e.deliver(t, "issues", payload(t, "issues.opened.payload.json", withLabels("issue")))
	e.deliver(t, "issues", payload(t, "issues.labeled.payload.json", withLabels("issue", "dependencies")))
	e.wait(t)
	if n := len(e.rec.All()); n != 0 {
		t.Errorf("a label automation added right after opening did not count: %+v", e.rec.All())
	}
}

func TestReleasePublishedOnce(t *testing.T) {
	e := newRelayEnv(t, sub(nil))
	for _, f := range []string{"release.published.payload.json", "release.released.json", "release.published.payload.json"} {
		e.deliver(t, "release", payload(t, f, nil))
	}
	msgs := e.rec.All()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Plain, "Codertocat/Hello-World released 0.0.1") {
		t.Fatalf("releases = %+v", msgs)
	}
}

func TestCommentsOnlyWhenAsked(t *testing.T) {
	e := newRelayEnv(t, sub(nil))
	e.deliver(t, "issue_comment", payload(t, "issue_comment.created.payload.json", nil))
	if n := len(e.rec.All()); n != 0 {
		t.Fatalf("comment relayed without the comments event: %+v", e.rec.All())
	}
	e = newRelayEnv(t, sub(func(s *config.Subscription) { s.Events = append(s.Events, "comments") }))
	e.deliver(t, "issues", payload(t, "issues.opened.payload.json", nil))
	e.wait(t)
	e.deliver(t, "issue_comment", payload(t, "issue_comment.created.payload.json", nil))
	msgs := e.rec.All()
	if len(msgs) != 2 || msgs[1].Rel != "thread" || !strings.Contains(msgs[1].Plain, "Codertocat commented on Codertocat/Hello-World#1") {
		t.Fatalf("comment = %+v", msgs)
	}
}

func TestReopenAfterClose(t *testing.T) {
	e := newRelayEnv(t, sub(nil))
	e.deliver(t, "issues", payload(t, "issues.opened.payload.json", nil))
	e.wait(t)
	closed := payload(t, "issues.opened.payload.json", func(m map[string]any) {
		m["action"] = "closed"
		m["issue"].(map[string]any)["state"] = "closed"
		m["issue"].(map[string]any)["state_reason"] = "not_planned"
	})
	e.deliver(t, "issues", closed)
	e.deliver(t, "issues", payload(t, "issues.reopened.payload.json", nil))
	e.deliver(t, "issues", closed)
	var lines []string
	for _, m := range e.rec.All() {
		if m.Rel == "thread" {
			lines = append(lines, m.Plain)
		}
	}
	want := []string{"Closed as not planned by Codertocat", "Reopened by Codertocat", "Closed as not planned by Codertocat"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("thread lines %q, want %q", lines, want)
	}
}

// TestMalformedDeliveryIsDroppedAndTheRelayGoesOn: a signed delivery that
// lacks its issue (found by fuzzing: it used to crash the relay, and the
// stored delivery would have crashed it again at every start) is dropped
// with a log line, and the next delivery is announced.
func TestMalformedDeliveryIsDroppedAndTheRelayGoesOn(t *testing.T) {
	e := newRelayEnv(t, sub(nil))
	for event, body := range map[string]string{
		"issues": `{"action":"opened","repository":{"full_name":"Codertocat/Hello-World"}}`, "pull_request": `{}`,
		"release": `{"action":"published"}`, "issue_comment": `{"action":"created"}`,
	} {
		if _, ok, err := FromWebhook(event, []byte(body)); err == nil || ok {
			t.Errorf("%s %s: ok=%v err=%v, want an error", event, body, ok, err)
		}
		e.deliver(t, event, []byte(body))
	}
	e.deliver(t, "issues", payload(t, "issues.opened.payload.json", nil))
	e.wait(t)
	if got := roots(e.rec.All()); len(got) != 1 {
		t.Errorf("after the malformed deliveries: %+v, want the good one announced", e.rec.All())
	}
	if pending, _ := e.store.PendingDeliveries(context.Background(), 10); len(pending) != 0 {
		t.Errorf("%d deliveries left pending", len(pending))
	}
}

// panickyPoster stands for a bug anywhere in posting.
type panickyPoster struct{ testenv.Recorder }

func (p *panickyPoster) Post(context.Context, string, string, bot.Reply) error {
	panic("a bug")
}

func (p *panickyPoster) PostRoot(context.Context, string, string, bot.Reply) error {
	panic("a bug")
}

func (p *panickyPoster) Edit(context.Context, string, string, string, bot.Reply) error {
	panic("a bug")
}

// TestWorkThatPanicsIsDropped: a delivery or an item that crashes the
// relay (a bug) is dropped, so it cannot crash the bot at every start.
func TestWorkThatPanicsIsDropped(t *testing.T) {
	for _, window := range []time.Duration{0, 5 * time.Second} {
		e := newRelayEnv(t, sub(nil))
		e.relay.window = window
		e.relay.poster = &panickyPoster{}
		e.deliver(t, "issues", payload(t, "issues.opened.payload.json", nil))
		e.wait(t)
		if pending, _ := e.store.PendingDeliveries(context.Background(), 10); len(pending) != 0 {
			t.Errorf("window %s: the delivery that panicked is still pending: %+v", window, pending)
		}
		if due, _ := e.store.DueItems(context.Background(), e.now.Add(time.Hour)); len(due) != 0 {
			t.Errorf("window %s: the item that panicked is still waiting: %v", window, due)
		}
	}
}

// TestRelabellingAnnouncesOnlyWhereTheLabelMadeItMatch: a room without a
// label filter gets an item once, however often it is relabelled; a
// room filtering on a label gets it when that label comes, once; an item
// recorded as history is never announced as new, in either room.
func TestRelabellingAnnouncesOnlyWhereTheLabelMadeItMatch(t *testing.T) {
	all := sub(func(s *config.Subscription) { s.Rooms = []string{"!all:x"} })
	newcomers := sub(func(s *config.Subscription) {
		s.Rooms = []string{"!newcomers:x"}
		s.Labels.Include = []string{"good first issue"}
	})
	relabel := func(e *relayEnv, labels ...string) {
		e.deliver(t, "issues", payload(t, "issues.labeled.payload.json", withLabels("issue", labels...)))
	}
	rootsIn := func(e *relayEnv) map[string]int {
		n := map[string]int{}
		for _, m := range roots(e.rec.All()) {
			n[m.Room]++
		}
		return n
	}

	t.Run("announced item", func(t *testing.T) {
		e := newRelayEnv(t, all, newcomers)
		e.deliver(t, "issues", payload(t, "issues.opened.payload.json", withLabels("issue")))
		e.wait(t)
		relabel(e, "bug")
		relabel(e, "bug", "triage")
		if got := rootsIn(e); got["!all:x"] != 1 || got["!newcomers:x"] != 0 {
			t.Fatalf("after two relabels without the label: %v, want the item once in !all only", got)
		}
		relabel(e, "bug", "good first issue")
		relabel(e, "good first issue")
		relabel(e, "good first issue", "docs")
		if got := rootsIn(e); got["!all:x"] != 1 || got["!newcomers:x"] != 1 {
			t.Fatalf("after the label came: %v, want the item once in each room", got)
		}
	})
	t.Run("history item", func(t *testing.T) {
		e := newRelayEnv(t, all, newcomers)
		relabel(e, "bug") // first news of it is a label: an old item
		relabel(e, "bug", "triage")
		relabel(e, "good first issue")
		if got := rootsIn(e); len(got) != 0 {
			t.Fatalf("an item recorded as history was announced: %v", got)
		}
	})
}
