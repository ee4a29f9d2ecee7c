package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/app"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestGitHubAsYourself: through Dendrite and the fake GitHub's device
// flow and write endpoints, a person logs in from a direct chat (GitHub
// says "slow down" once), then comments (in an announced item's thread),
// labels, closes, reopens, assigns and opens an issue as themselves, each
// checked in the fake's state; a repository they may not write is
// refused with GitHub's reason; a token revoked on GitHub asks them to
// log in again; logout revokes it; the token is never in the log.
func TestGitHubAsYourself(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	people := testenv.NewGitHubPeople("Iv1.ibbot-test", map[string][]string{"alice-gh": {"Codertocat/Hello-World"}})
	s.github.SetBackend(people)
	port := freeTCPPort(t)
	cfg := githubConfig(s, port, s.room)
	cfg.GitHub.PollInterval = 0
	cfg.GitHub.AllowedRepos = []string{"Codertocat/*", "octo-org/*"}
	cfg.GitHub.OAuth = config.GitHubOAuth{ClientID: "Iv1.ibbot-test", ClientSecret: config.NewSecret("app-secret-e2e"), WebURL: s.github.URL,
		Scopes: []string{"public_repo"}, TokenKey: config.NewSecret("token-key-e2e")}
	cfg.Matrix.Invites.Allow = []string{s.human.UserID.String()}
	logs := &syncBuffer{}
	started := make(chan *bot.Bot, 1)
	startBotOpts(t, cfg, app.Options{Started: func(b *bot.Bot) { started <- b }}, started, logs)

	resp, err := s.human.Client.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "trusted_private_chat", IsDirect: true, Invite: []id.UserID{s.botUser.UserID}})
	if err != nil {
		t.Fatal(err)
	}
	dm := resp.RoomID
	answer := func(room id.RoomID, line string) string {
		t.Helper()
		ev := s.human.MustSay(t, room, line)
		return testenv.Body(s.human.MustWait(t, wait, line, testenv.ReplyTo(ev)))
	}
	if got := answer(s.room, "!gh login"); !strings.HasPrefix(got, "Log in in a direct chat with me") {
		t.Errorf("!gh login in a room: %q", got)
	}
	people.SlowDown(1)
	got := answer(dm, "!gh login")
	if !strings.HasPrefix(got, "Open https://github.com/login/device") || !strings.Contains(got, "WDJB-MJH") {
		t.Fatalf("!gh login: %q", got)
	}
	codes := people.UserCodes()
	people.Approve(codes[len(codes)-1], "alice-gh")
	s.human.MustWait(t, wait, "the login's outcome", func(e *event.Event) bool {
		return e.RoomID == dm && isNotice(e) && strings.HasPrefix(testenv.Body(e), "✓ Logged in: I act on GitHub as alice-gh")
	})
	if got := answer(s.room, "!gh whoami"); !strings.HasPrefix(got, "You act on GitHub as alice-gh") {
		t.Errorf("!gh whoami: %q", got)
	}

	hook := fmt.Sprintf("http://127.0.0.1:%d/github/webhook", port)
	issue := delivery(t, "issues.opened.payload.json", numbered(301, "Builds fail on s390x"))
	postDelivery(t, hook, "issues", "d-301", issue, sign(issue))
	root := s.human.MustWait(t, wait, "issue 301", aboutItem("Codertocat/Hello-World#301"))
	ev, err := s.human.SayInThread(ctx, s.room, root.ID, "!gh comment I can reproduce this on F43.\nLogs attached soon.")
	if err != nil {
		t.Fatal(err)
	}
	if got := testenv.Body(s.human.MustWait(t, wait, "the comment's answer", testenv.ReplyTo(ev))); !strings.HasPrefix(strings.ToLower(got), "💬 alice-gh commented on codertocat/hello-world#301") {
		t.Errorf("!gh comment in the thread: %q", got)
	}
	for _, c := range [][2]string{
		{`!gh label Codertocat/Hello-World#301 +bug +"good first issue"`, "🏷 alice-gh labelled Codertocat/Hello-World#301"},
		{"!gh close Codertocat/Hello-World#301 not planned", "alice-gh closed Codertocat/Hello-World#301"},
		{"!gh reopen Codertocat/Hello-World#301", "alice-gh reopened Codertocat/Hello-World#301"},
		{"!gh assign Codertocat/Hello-World#301 @alice-gh", "alice-gh assigned alice-gh to Codertocat/Hello-World#301"},
		{"!gh label Codertocat/Hello-World#301 -bug", "🏷 alice-gh labelled"},
		{"!gh label Codertocat/Hello-World#301 -nonexistent", "Not done (taking the label nonexistent off Codertocat/Hello-World#301): GitHub knows no such thing"},
		{"!gh comment octo-org/secret#1 hello", "Not done (commenting on octo-org/secret#1): your GitHub account may not do that there (no permission)."},
		{"!gh comment elsewhere/repo#1 hello", "Not done: elsewhere/repo is not among the repositories this bot may act on"},
		{"!gh issue Codertocat/Hello-World", "usage: !gh issue OWNER/REPO TITLE"},
	} {
		if got := answer(s.room, c[0]); !strings.HasPrefix(got, c[1]) {
			t.Errorf("%s: %q, want %q…", c[0], got, c[1])
		}
	}
	if got := answer(s.room, "!gh issue Codertocat/Hello-World Document the s390x runners\nThey are missing from the docs."); !strings.HasPrefix(got, "alice-gh opened Codertocat/Hello-World#501") {
		t.Errorf("!gh issue: %q", got)
	}
	is, _ := people.Issue("Codertocat/Hello-World#301")
	if len(is.Comments) != 1 || is.Comments[0].Author != "alice-gh" || is.Comments[0].Body != "I can reproduce this on F43.\nLogs attached soon." ||
		strings.Join(is.Labels, ",") != "good first issue" || is.State != "open" || strings.Join(is.Assignees, ",") != "alice-gh" {
		t.Errorf("the fake's issue after the writes: %+v", is)
	}
	if created, _ := people.Issue("Codertocat/Hello-World#501"); created.Title != "Document the s390x runners" || created.Body != "They are missing from the docs." {
		t.Errorf("the new issue: %+v", created)
	}

	// GitHub sends the comment back as a webhook: it was said in the
	// thread already, so it is not echoed there.
	comment := testenv.InRepo(delivery(t, "issue_comment.created.on-pr.go-playground.json", func(o map[string]any) { o["number"] = 301 }), "Codertocat/Hello-World")
	comment = withComment(t, comment, is.Comments[0].ID, "alice-gh")
	postDelivery(t, hook, "issue_comment", "d-301-c", comment, sign(comment))
	time.Sleep(2 * time.Second)
	if n := s.human.Count(func(e *event.Event) bool {
		return isNotice(e) && strings.HasPrefix(testenv.Body(e), "alice-gh commented on")
	}); n != 0 {
		t.Errorf("one's own comment was echoed %d times", n)
	}

	if got := answer(dm, "!gh logout"); !strings.HasPrefix(got, "✓ Logged out: your token is deleted here and revoked at GitHub") ||
		strings.Join(people.Revoked(), ",") != "alice-gh" {
		t.Errorf("!gh logout: %q, revoked %v", got, people.Revoked())
	}
	loginAs(t, s, people, dm, "alice-gh")
	people.Revoke("alice-gh") // the person revokes the app on GitHub
	if got := answer(s.room, "!gh reopen Codertocat/Hello-World#301"); !strings.Contains(got, "log in again with !gh login") {
		t.Errorf("with a revoked token: %q", got)
	}
	if got := answer(s.room, "!gh whoami"); !strings.HasPrefix(got, "You are not logged in") {
		t.Errorf("after the revocation was noticed: %q", got)
	}
	if strings.Contains(logs.String(), "gho_") {
		t.Error("a token is in the bot's log")
	}
}

// withComment sets a comment delivery's comment id and author.
func withComment(t *testing.T, body []byte, commentID int64, login string) []byte {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	c := m["comment"].(map[string]any)
	c["id"] = commentID
	c["user"].(map[string]any)["login"] = login
	out, _ := json.Marshal(m)
	return out
}

// login runs the device flow for the human, approved as login.
func loginAs(t *testing.T, s *stack, people *testenv.GitHubPeople, dm id.RoomID, login string) {
	t.Helper()
	ev := s.human.MustSay(t, dm, "!gh login")
	if got := testenv.Body(s.human.MustWait(t, wait, "!gh login", testenv.ReplyTo(ev))); !strings.HasPrefix(got, "Open https://github.com/login/device") {
		t.Fatalf("!gh login: %q", got)
	}
	loggedIn := func(e *event.Event) bool {
		return e.RoomID == dm && isNotice(e) && strings.HasPrefix(testenv.Body(e), "✓ Logged in: I act on GitHub as "+login)
	}
	before := s.human.Count(loggedIn)
	codes := people.UserCodes()
	slices.Sort(codes)
	people.Approve(codes[len(codes)-1], login)
	wctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := s.human.WaitCount(wctx, before+1, loggedIn); err != nil {
		t.Fatalf("the login's outcome: %v", err)
	}
}
