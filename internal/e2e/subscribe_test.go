package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestRoomsManageTheirSubscriptions: a room admin subscribes the room to a
// repository in chat and a signed webhook for it is relayed at once; a
// non-admin's attempt is refused and changes nothing; the subscription
// survives a restart; unsubscribing stops it; a subscription from the
// config, muted in chat, stays muted after a restart.
func TestRoomsManageTheirSubscriptions(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	bob := s.hs.NewUser(t, "bob")
	if _, err := bob.JoinRoomByID(ctx, s.room); err != nil {
		t.Fatal(err)
	}
	cfg := s.config(s.hs.URL)
	hook := withWebhook(t, cfg)
	cfg.GitHub.Subscriptions = []config.Subscription{{Rooms: []string{s.room.String()}, Repos: []string{"osbuild/*"}, Events: []config.Event{config.EventIssues}}}
	cfg.GitHub.AllowedRepos = []string{"osbuild/*", "codertocat/*", "nobody/*"}
	first := startBot(t, cfg)

	say := func(u *testenv.User, text string) string {
		t.Helper()
		cmd := u.MustSay(t, s.room, text)
		return testenv.Body(s.human.MustWait(t, wait, "the answer to "+text, testenv.ReplyTo(cmd)))
	}
	n := 2000
	sendIssue := func(repo string) int {
		t.Helper()
		n++
		body := testenv.InRepo(delivery(t, "issues.opened.payload.json", numbered(n, fmt.Sprintf("issue %d", n))), repo)
		postDelivery(t, hook, "issues", fmt.Sprintf("sub-%d", n), body, sign(body))
		return n
	}
	announced := func(repo string, num int) bool {
		s.settle(t)
		return s.human.Count(func(e *event.Event) bool {
			return isNotice(e) && strings.Contains(testenv.Body(e), fmt.Sprintf("%s#%d ", repo, num))
		}) > 0
	}

	if got := say(bob, "!gh subscribe Codertocat/Hello-World pulls issues"); !strings.Contains(got, "for room admins") {
		t.Errorf("a non-admin's subscribe: %q", got)
	}
	if num := sendIssue("Codertocat/Hello-World"); announced("Codertocat/Hello-World", num) {
		t.Error("a refused subscribe still subscribed the room")
	}
	for text, want := range map[string]string{
		"!gh subscribe Codertocat/Hello-World isues":      `did you mean "issues"?`,
		"!gh subscribe Codertocat/Hello-World bots:maybe": "bots:show, bots:digest or bots:hide",
		"!gh subscribe nobody/nothing-here":               "GitHub has no repository nobody/nothing-here",
		"!gh subscribe not-a-repo":                        "is not a repository",
		"!gh unsubscribe someone/else":                    "does not receive someone/else",
		"!gh subscribe someone/else":                      "someone/else is not one of them",
		"!gh subscribe osbuild/secret-plans":              "osbuild/secret-plans is private",
		"!gh subscirbe Codertocat/Hello-World":            "did you mean `!gh subscribe`?",
	} {
		if got := say(s.human, text); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want it to say %q", text, got, want)
		}
	}
	got := say(s.human, `!gh subscribe Codertocat/Hello-World issues -label:"wont fix"`)
	if !strings.Contains(got, s.human.UserID.String()+" subscribed this room to issues of codertocat/hello-world") || !strings.Contains(got, "not labels wont fix") {
		t.Errorf("subscribe answer: %q", got)
	}
	if num := sendIssue("Codertocat/Hello-World"); !announced("Codertocat/Hello-World", num) {
		t.Error("a webhook for the newly subscribed repository was not relayed")
	}
	if got := say(s.human, "!gh unsubscribe osbuild/images"); !strings.Contains(got, "from the operator's config") {
		t.Errorf("unsubscribing what the config sends: %q", got)
	}
	if num := sendIssue("osbuild/images"); !announced("osbuild/images", num) {
		t.Error("unsubscribing muted what the config sends")
	}
	if got := say(s.human, "!gh mute osbuild/images"); !strings.Contains(got, "muted osbuild/images") {
		t.Errorf("muting a config subscription: %q", got)
	}
	list := say(bob, "!gh subscriptions")
	for _, want := range []string{"issues of osbuild/* (from the config)", "muted here: osbuild/images, by " + s.human.UserID.String(),
		"issues of codertocat/hello-world", "(added by " + s.human.UserID.String()} {
		if !strings.Contains(list, want) {
			t.Errorf("!gh subscriptions lacks %q:\n%s", want, list)
		}
	}

	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	startBot(t, cfg)
	if num := sendIssue("Codertocat/Hello-World"); !announced("Codertocat/Hello-World", num) {
		t.Error("the room's subscription did not survive a restart")
	}
	if num := sendIssue("osbuild/images"); announced("osbuild/images", num) {
		t.Error("the muted config subscription came back after a restart")
	}
	if num := sendIssue("osbuild/osbuild"); !announced("osbuild/osbuild", num) {
		t.Error("muting one repository muted the rest of the config's osbuild/* too")
	}
	if got := say(s.human, "!gh unsubscribe Codertocat/Hello-World"); !strings.Contains(got, "unsubscribed this room from codertocat/hello-world") {
		t.Errorf("unsubscribe: %q", got)
	}
	if num := sendIssue("Codertocat/Hello-World"); announced("Codertocat/Hello-World", num) {
		t.Error("an unsubscribed repository was still relayed")
	}
}

// TestRoomsRouteMailingLists: a room admin in a second room subscribes
// it to the config's list and to another list the mailbox receives; the
// list's next thread reaches both rooms, the other list's only the second;
// a non-admin cannot; unsubscribing the config's list in the first room
// mutes it there.
func TestRoomsRouteMailingLists(t *testing.T) {
	d := needDovecot(t)
	s := newStack(t)
	ctx := context.Background()
	room2, err := s.human.CreateRoom(ctx, "second", s.botUser.UserID)
	if err != nil {
		t.Fatal(err)
	}
	bob := s.hs.NewUser(t, "bob")
	if _, err := bob.JoinRoomByID(ctx, room2); err != nil {
		t.Fatal(err)
	}
	cfg := s.config(s.hs.URL)
	cfg.Matrix.Rooms = append(cfg.Matrix.Rooms, room2.String())
	cfg.Mail = mailConfig(d, s.room.String())
	cfg.Mail.AllowedLists = []string{mailList, "devel.lists.example.org"}
	startBot(t, cfg)
	sayIn := func(u *testenv.User, room id.RoomID, text string) string {
		t.Helper()
		cmd := u.MustSay(t, room, text)
		return testenv.Body(s.human.MustWait(t, wait, "the answer to "+text, testenv.ReplyTo(cmd)))
	}
	if got := sayIn(bob, room2, "!ml subscribe "+mailList); !strings.Contains(got, "for room admins") {
		t.Errorf("a non-admin's !ml subscribe: %q", got)
	}
	if got := sayIn(s.human, room2, "!ml subscribe image-builder..lists"); !strings.Contains(got, "is not a List-Id") {
		t.Errorf("a malformed list id: %q", got)
	}
	if got := sayIn(s.human, room2, "!ml subscribe secret.lists.example.org"); !strings.Contains(got, "not one of them") {
		t.Errorf("a list the operator does not allow: %q", got)
	}
	for _, list := range []string{mailList, "<devel.lists.example.org>"} {
		if got := sayIn(s.human, room2, "!ml subscribe "+list); !strings.Contains(got, "subscribed this room to the mailing list") {
			t.Errorf("!ml subscribe %s: %q", list, got)
		}
	}
	inRoom := func(room id.RoomID, subject string) func(*event.Event) bool {
		// The subject tag of another list ([image-builder] in the test
		// mail) is kept: only the configured list's is known.
		return func(e *event.Event) bool {
			return e.RoomID == room && isNotice(e) && strings.HasPrefix(testenv.Body(e), "✉ ") && strings.Contains(testenv.Body(e), subject+" — ")
		}
	}
	mustAppend := func(raw []byte) {
		t.Helper()
		if err := d.Append(raw); err != nil {
			t.Fatal(err)
		}
	}
	mustAppend(listMail("routed-1@example.com", "Routed to both", "", mailList))
	s.human.MustWait(t, wait, "the thread in the first room", inRoom(s.room, "Routed to both"))
	s.human.MustWait(t, wait, "the thread in the second room", inRoom(room2, "Routed to both"))
	mustAppend(listMail("devel-1@example.com", "Only for the second room", "", "devel.lists.example.org"))
	s.human.MustWait(t, wait, "the other list's thread in the second room", inRoom(room2, "Only for the second room"))

	// The thread is recorded before it is sent, so both rooms can ask now.
	if got := sayIn(s.human, room2, "!ml search second room"); !strings.Contains(got, "Only for the second room") {
		t.Errorf("!ml in the room that follows the devel list: %q", got)
	}
	if got := sayIn(s.human, s.room, "!ml search second room"); strings.Contains(got, "Only for the second room") {
		t.Errorf("!ml in a room that does not follow the devel list shows its thread: %q", got)
	}
	if got := sayIn(s.human, s.room, "!ml unsubscribe "+mailList); !strings.Contains(got, "from the operator's config") {
		t.Errorf("unsubscribing the config's list: %q", got)
	}
	if got := sayIn(s.human, s.room, "!ml mute "+mailList); !strings.Contains(got, "muted the mailing list") {
		t.Errorf("muting the config's list: %q", got)
	}
	mustAppend(listMail("routed-2@example.com", "After the mute", "", mailList))
	s.human.MustWait(t, wait, "the next thread in the second room", inRoom(room2, "After the mute"))
	s.settle(t)
	for _, c := range []struct {
		room    id.RoomID
		subject string
		want    int
	}{{s.room, "Only for the second room", 0}, {s.room, "After the mute", 0}, {room2, "Routed to both", 1}} {
		if n := s.human.Count(inRoom(c.room, c.subject)); n != c.want {
			t.Errorf("%q in %s: %d times, want %d", c.subject, c.room, n, c.want)
		}
	}
}

// TestCIAndDiscussions: a room subscribed to ci hears once that a
// workflow fails on the default branch (not again while it keeps failing,
// nothing for runs on other branches), and once that it is fixed; a room
// subscribed to discussions gets a new discussion and its answer in its
// thread. Real deliveries (octokit/webhooks' examples) with only the run's
// outcome, id and branch changed.
func TestCIAndDiscussions(t *testing.T) {
	s := newStack(t)
	cfg := s.config(s.hs.URL)
	hook := withWebhook(t, cfg)
	cfg.GitHub.AllowedRepos = []string{"octo-org/*", "codertocat/*"}
	startBot(t, cfg)
	for _, sub := range []string{"!gh subscribe octo-org/octo-repo ci", "!gh subscribe Codertocat/Hello-World discussions"} {
		s.github.SetIssues(strings.Fields(sub)[2])
		cmd := s.human.MustSay(t, s.room, sub)
		if got := testenv.Body(s.human.MustWait(t, wait, "the answer to "+sub, testenv.ReplyTo(cmd))); !strings.Contains(got, "subscribed this room") {
			t.Fatalf("%s: %q", sub, got)
		}
	}
	run := func(id int, conclusion, branch string) {
		t.Helper()
		body := rewrite(t, "workflow_run.completed.payload.json", func(m map[string]any) {
			r := m["workflow_run"].(map[string]any)
			r["id"], r["run_number"], r["conclusion"], r["head_branch"] = id, id, conclusion, branch
			r["html_url"] = fmt.Sprintf("https://github.com/octo-org/octo-repo/actions/runs/%d", id)
		})
		postDelivery(t, hook, "workflow_run", fmt.Sprintf("run-%d", id), body, sign(body))
	}
	isFailure := func(e *event.Event) bool {
		return isNotice(e) && strings.HasPrefix(testenv.Body(e), "✗ CI: test failed on master")
	}
	isFixed := func(e *event.Event) bool {
		return isNotice(e) && strings.HasPrefix(testenv.Body(e), "✓ CI fixed: test passed again")
	}

	run(1, "success", "master")
	run(2, "failure", "feature")
	run(3, "failure", "master")
	s.human.MustWait(t, wait, "the failure on the default branch", isFailure)
	run(4, "failure", "master")
	run(5, "cancelled", "master")
	run(6, "success", "master")
	s.human.MustWait(t, wait, "the fix", isFixed)
	run(7, "success", "master")
	run(3, "failure", "master") // GitHub redelivers the first failure

	for _, f := range []string{"discussion.created.payload.json", "discussion.answered.payload.json"} {
		body := rewrite(t, f, nil)
		postDelivery(t, hook, "discussion", f, body, sign(body))
	}
	root := s.human.MustWait(t, wait, "the new discussion", func(e *event.Event) bool {
		return isNotice(e) && strings.HasPrefix(testenv.Body(e), "Codertocat/Hello-World discussion #4 TEST edit")
	})
	s.human.MustWait(t, wait, "the answer in the discussion's thread", func(e *event.Event) bool {
		rel := e.Content.AsMessage().RelatesTo
		return rel != nil && rel.Type == event.RelThread && rel.EventID == root.ID && strings.Contains(testenv.Body(e), "answered")
	})
	s.settle(t)
	if n, m := s.human.Count(isFailure), s.human.Count(isFixed); n != 1 || m != 1 {
		t.Errorf("%d failure and %d fixed announcements, want one each", n, m)
	}
}

// rewrite is a recorded delivery with edit applied to the whole payload.
func rewrite(t *testing.T, file string, edit func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(fixtures.Read("github/webhooks/"+file), &m); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	b, _ := json.Marshal(m)
	return b
}

// TestRoomSettings: room admins set what the config says per room: the
// repository #123 means, thread lines on or off, and deploy announcements
// on (in a room the config does not name) or off (in one it does).
func TestRoomSettings(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	room2, err := s.human.CreateRoom(ctx, "second", s.botUser.UserID)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.config(s.hs.URL)
	cfg.Matrix.Rooms = append(cfg.Matrix.Rooms, room2.String())
	hook := withWebhook(t, cfg)
	cfg.GitHub.Subscriptions = []config.Subscription{{Rooms: []string{s.room.String()}, Repos: []string{"Codertocat/Hello-World"}, Events: []config.Event{config.EventIssues}}}
	cfg.ProdHash.Rooms = []string{s.room.String()}
	cfg.ProdHash.CheckInterval = 50 * time.Millisecond
	s.github.SetIssues("Codertocat/Hello-World", issueObject(t, delivery(t, "issues.opened.payload.json", numbered(7, "Seven"))))
	startBot(t, cfg)
	sayIn := func(room id.RoomID, text string) string {
		t.Helper()
		cmd := s.human.MustSay(t, room, text)
		return testenv.Body(s.human.MustWait(t, wait, "the answer to "+text, testenv.ReplyTo(cmd)))
	}

	if got := sayIn(s.room, "!gh default-repo Codertocat/Hello-World"); !strings.Contains(got, "default repository") {
		t.Fatalf("default-repo: %q", got)
	}
	if got := sayIn(s.room, "!issue #7"); !strings.Contains(got, "Codertocat/Hello-World#7 Seven") {
		t.Errorf("!issue #7 after default-repo: %q", got)
	}

	if got := sayIn(s.room, "!gh settings threads off"); !strings.Contains(got, "thread lines off") {
		t.Fatalf("threads off: %q", got)
	}
	opened := delivery(t, "issues.opened.payload.json", numbered(8, "Eight"))
	postDelivery(t, hook, "issues", "set-8-opened", opened, sign(opened))
	root := s.human.MustWait(t, wait, "issue 8", aboutItem("Codertocat/Hello-World#8")).ID
	closed := delivery(t, "issues.opened.payload.json", func(o map[string]any) {
		numbered(8, "Eight")(o)
		o["state"], o["closed_at"] = "closed", time.Now().UTC().Format(time.RFC3339)
	})
	postDelivery(t, hook, "issues", "set-8-closed", withAction(t, closed, "closed"), sign(withAction(t, closed, "closed")))
	s.human.MustWait(t, wait, "the edit for the close", func(e *event.Event) bool {
		rel := e.Content.AsMessage().RelatesTo
		return rel != nil && rel.Type == event.RelReplace && rel.EventID == root
	})
	s.settle(t)
	if n := s.human.Count(func(e *event.Event) bool {
		rel := e.Content.AsMessage().RelatesTo
		return rel != nil && rel.Type == event.RelThread && rel.EventID == root
	}); n != 0 {
		t.Errorf("%d thread lines with threads off", n)
	}

	s.waitStatus(t, "✓ deploy announcements")
	if got := sayIn(room2, "!deploys on"); !strings.Contains(got, "on in this room") {
		t.Fatalf("deploys on: %q", got)
	}
	if got := sayIn(s.room, "!deploys off"); !strings.Contains(got, "off in this room") {
		t.Fatalf("deploys off: %q", got)
	}
	s.github.SetDiagram(deployedDiagram(composerSHA, newComposerSHA), time.Now())
	s.human.MustWait(t, wait, "the deploy in the room that turned them on", func(e *event.Event) bool {
		return e.RoomID == room2 && announcementOf("image-builder-composer")(e)
	})
	s.settle(t)
	if n := s.human.Count(func(e *event.Event) bool { return e.RoomID == s.room && announcementOf("image-builder-composer")(e) }); n != 0 {
		t.Errorf("the room that turned deploys off got %d announcements", n)
	}
}

// withAction sets a delivery's action.
func withAction(t *testing.T, body []byte, action string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	m["action"] = action
	b, _ := json.Marshal(m)
	return b
}

// TestReviewLines: in a room subscribed to reviews, a review request and
// an approval of a pull request it was told about become lines in that
// pull request's thread; a comment-only review does not.
func TestReviewLines(t *testing.T) {
	s := newStack(t)
	cfg := s.config(s.hs.URL)
	hook := withWebhook(t, cfg)
	cfg.GitHub.Subscriptions = []config.Subscription{{Rooms: []string{s.room.String()}, Repos: []string{"Codertocat/Hello-World"},
		Events: []config.Event{config.EventPulls, config.EventReviews}}}
	startBot(t, cfg)
	deliver := func(event, id string, body []byte) {
		t.Helper()
		postDelivery(t, hook, event, id, body, sign(body))
	}
	deliver("pull_request", "rv-opened", delivery(t, "pull_request.opened.payload.json", nil))
	root := s.human.MustWait(t, wait, "the pull request", aboutItem("Codertocat/Hello-World#2")).ID
	deliver("pull_request", "rv-requested", rewrite(t, "pull_request.review_requested.payload.json", nil))
	deliver("pull_request_review", "rv-commented", rewrite(t, "pull_request_review.submitted.payload.json", nil))
	deliver("pull_request_review", "rv-approved", rewrite(t, "pull_request_review.submitted.payload.json", func(m map[string]any) {
		r := m["review"].(map[string]any)
		r["state"], r["id"] = "approved", 237895672
	}))
	inThread := func(prefix string) func(*event.Event) bool {
		return func(e *event.Event) bool {
			rel := e.Content.AsMessage().RelatesTo
			return rel != nil && rel.Type == event.RelThread && rel.EventID == root && strings.HasPrefix(testenv.Body(e), prefix)
		}
	}
	s.human.MustWait(t, wait, "the review request line", inThread("review requested from octocat by Codertocat"))
	s.human.MustWait(t, wait, "the approval line", inThread("✓ approved"))
	s.settle(t)
	lines := s.human.Count(func(e *event.Event) bool {
		rel := e.Content.AsMessage().RelatesTo
		return rel != nil && rel.Type == event.RelThread && rel.EventID == root
	})
	if lines != 2 {
		t.Errorf("%d lines in the pull request's thread, want the request and the approval", lines)
	}
}

// withWebhook makes cfg serve the GitHub webhook (the test's secret) on a
// port of its own, relaying at once (no aggregation window, no polling),
// and returns the webhook's URL.
func withWebhook(t *testing.T, cfg *config.Config) string {
	t.Helper()
	port := freeTCPPort(t)
	cfg.HTTP.Listen = fmt.Sprintf("127.0.0.1:%d", port)
	cfg.GitHub.Webhook = config.Webhook{Path: "/github/webhook", Secret: config.NewSecret(webhookSecret)}
	cfg.GitHub.AggregationWindow, cfg.GitHub.PollInterval = 0, 0
	return fmt.Sprintf("http://127.0.0.1:%d/github/webhook", port)
}
